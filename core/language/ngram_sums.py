"""The n-gram model's logits in one compiled pass: hash each n-gram and add its weights at once.

`char_ngrams.ngram_buckets` followed by a gather and a sum builds an array of every n-gram's
bucket and one of every n-gram's weight row before summing them. Most sentences are named by
the n-gram stage alone (`DefaultDetector`), so that stage is the detector's speed; compiled
with numba, the same hashes and sums need neither array and no pass over NumPy's dispatch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from core.compiled import compiled

_MASK = 2**64 - 1
MIX = 0x9E3779B97F4A7C15
PRIME = 1000003


def order_salts(longest: int) -> npt.NDArray[np.uint64]:
    """What the salts add to every hash of each order (index: order), as `ngram_buckets`
    defines them: an order-k hash is the order below times `PRIME`, plus a code point, plus
    k times `MIX`."""
    salts = [0, 0]
    for order in range(2, longest + 1):
        salts.append((salts[-1] * PRIME + order * MIX) & _MASK)
    return np.array(salts, dtype=np.uint64)


@compiled
def _bucket(hashed: np.uint64, salt: np.uint64, shift: np.uint64) -> np.uint64:
    """The bucket of an n-gram's rolling hash: multiplicative hashing keeps the top bits of
    the product, the best mixed."""
    return ((hashed + salt) * np.uint64(MIX)) >> shift


@compiled
def _fill_buckets(
    points: npt.NDArray[Any],
    shift: np.uint64,
    salts: npt.NDArray[np.uint64],
    buckets: npt.NDArray[np.intp],
) -> None:
    """Write every n-gram's bucket into `buckets`: all unigrams, then all bigrams..."""
    size = len(points)
    written = 0
    for order in range(1, min(len(salts) - 1, size) + 1):
        for start in range(size - order + 1):
            hashed = np.uint64(0)
            for offset in range(order):
                hashed = hashed * np.uint64(PRIME) + np.uint64(points[start + offset])
            buckets[written] = _bucket(hashed, salts[order], shift)
            written += 1


@compiled
def _add_rows(
    points: npt.NDArray[Any],
    shift: np.uint64,
    salts: npt.NDArray[np.uint64],
    weights: npt.NDArray[np.float32],
    logits: npt.NDArray[np.float32],
) -> int:
    """Add to `logits` the weight row of every n-gram of `points` (orders 1 to
    `len(salts) - 1`); return how many n-grams there were."""
    size = len(points)
    width = weights.shape[1]
    count = 0
    for start in range(size):
        # Each order extends the one below by a character: a rolling polynomial.
        hashed = np.uint64(0)
        for order in range(1, min(len(salts) - 1, size - start) + 1):
            hashed = hashed * np.uint64(PRIME) + np.uint64(points[start + order - 1])
            row = weights[_bucket(hashed, salts[order], shift)]
            for column in range(width):
                logits[column] += row[column]
            count += 1
    return count


def ngram_count(size: int, longest: int) -> int:
    """How many n-grams of 1 to `longest` characters a text of `size` characters has."""
    orders = min(longest, size)
    return orders * size - orders * (orders - 1) // 2


def buckets(
    points: npt.NDArray[np.uint8] | npt.NDArray[np.uint32],
    bits: int,
    salts: npt.NDArray[np.uint64],
) -> npt.NDArray[np.intp]:
    """The bucket (of 2**bits) of every n-gram of `points`: all unigrams, then all bigrams..."""
    found = np.empty(ngram_count(len(points), len(salts) - 1), dtype=np.intp)
    _fill_buckets(points, np.uint64(64 - bits), salts, found)
    return found


def summed_weights(
    points: npt.NDArray[np.uint8] | npt.NDArray[np.uint32],
    bits: int,
    salts: npt.NDArray[np.uint64],
    weights: npt.NDArray[np.float32],
    bias: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], int]:
    """The bias plus the weights of every n-gram of `points` (`char_ngrams.code_points`),
    and the number of n-grams."""
    logits = bias.copy()
    count: int = _add_rows(points, np.uint64(64 - bits), salts, weights, logits)
    return logits, count
