"""A compact character n-gram model (hashed naive Bayes) shipped as package data.

It covers the BLOOM languages that share a script with others, including those no library knows
(Bambara, Fon, Kikuyu, Tumbuka when trained on it, Akan/Twi) and pairs libraries confuse
(Kirundi against Kinyarwanda), plus an "other" class for text in languages outside BLOOM.
Weights are trained by `bench/language_model_train.py` on openly licensed text; see
`core/data/language/SOURCES.md`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

ORDERS = (1, 2, 3, 4)
# Spaces, digits and punctuation separate words; every other character (letters and the vowel
# signs of Indic scripts alike) is part of one.
_SEPARATORS = re.compile(
    r"[\s\d_!-/:-@\[-`{-~\u00a0-\u00bf\u2000-\u206f\u3000-\u303f\uff01-\uff20"
    r"\u060c\u061b\u061f\u06d4\u0964\u0965]+"
)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1000003)
# Added at each order so a short n-gram and a longer one rarely share a hash.
_ORDER_SALT = {order: np.uint64(order * 0x9E3779B97F4A7C15 % 2**64) for order in ORDERS}
WEIGHTS_FILE = "char_ngrams.npz"
# The first characters of a long text say enough; reading more only costs time.
MAX_CHARS = 240
OTHER = "other"


def words_only(text: str) -> str:
    """`text` lower-cased with digits and punctuation turned into single spaces, padded."""
    return " " + _SEPARATORS.sub(" ", text.lower()).strip() + " "


def ngram_buckets(text: str, bits: int) -> npt.NDArray[np.intp]:
    """The hash bucket (of 2**bits) of every character n-gram of `text`, all orders together."""
    points = np.frombuffer(words_only(text).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    found = [points]
    with np.errstate(over="ignore"):
        # Each order extends the previous one's hashes by one character (a rolling polynomial).
        for order in ORDERS[1:]:
            previous = found[-1]
            if len(previous) < 2:
                break
            found.append(previous[:-1] * _PRIME + points[order - 1 :] + _ORDER_SALT[order])
        hashed = np.concatenate(found) * _MIX
    # Multiplicative hashing: the top bits of the product are the best mixed.
    return (hashed >> np.uint64(64 - bits)).astype(np.intp)


@dataclass(frozen=True)
class NgramScores:
    """Per-language log-likelihoods of a text: summed over its n-grams and their mean."""

    languages: tuple[str, ...]
    total: npt.NDArray[np.floating[Any]]
    mean: npt.NDArray[np.floating[Any]]
    ngrams: int


class CharNgramModel:
    """Log P(n-gram | language) per hash bucket; a text's score is the sum over its n-grams."""

    def __init__(
        self, languages: tuple[str, ...], weights: npt.NDArray[np.floating[Any]], bits: int
    ) -> None:
        self.languages = languages
        self.bits = bits
        self._weights = weights.astype(np.float32)
        self.index = {code: position for position, code in enumerate(languages)}

    def scores(self, text: str) -> NgramScores:
        """The log-likelihood of `text` (its first `MAX_CHARS` characters) under each language."""
        buckets = ngram_buckets(text[:MAX_CHARS], self.bits)
        if not len(buckets):
            zeros = np.zeros(len(self.languages), dtype=np.float32)
            return NgramScores(self.languages, zeros, zeros, 0)
        # A row of ones times the gathered rows: BLAS sums them faster than `.sum(axis=0)`.
        total = np.ones(len(buckets), dtype=np.float32) @ self._weights[buckets]
        return NgramScores(self.languages, total, total / len(buckets), len(buckets))

    def save(self, path: str) -> None:
        """Write the weights (float16) with their languages and hash size."""
        np.savez_compressed(
            path,
            weights=self._weights.astype(np.float16),
            languages=np.array(self.languages),
            bits=np.array(self.bits),
        )

    @classmethod
    def from_file(cls, source: Any) -> CharNgramModel:
        """Read weights written by `save` (a path or an open binary file)."""
        with np.load(source) as stored:
            languages = tuple(str(code) for code in stored["languages"])
            return cls(languages, stored["weights"], int(stored["bits"]))


_LOCK = threading.Lock()
_SHIPPED: list[CharNgramModel] = []


def shipped_model() -> CharNgramModel:
    """The model in the package data, loaded once per process."""
    with _LOCK:
        if not _SHIPPED:
            folder = resources.files("core").joinpath("data", "language")
            with folder.joinpath(WEIGHTS_FILE).open("rb") as handle:
                _SHIPPED.append(CharNgramModel.from_file(handle))
        return _SHIPPED[0]
