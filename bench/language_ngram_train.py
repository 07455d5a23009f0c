"""Train the character n-gram model: a hashed linear classifier fitted by softmax regression.

Each text is the bag of its hashed character 1-4-grams (`core.language.char_ngrams`); a class's
logit is the sum of one weight per n-gram plus a bias. Fitted by averaged stochastic gradient
descent on class-weighted cross-entropy, one text at a time, touching only the rows of that
text's n-grams (numpy; a full-matrix optimiser step per batch is far slower on a CPU). Unlike
naive Bayes, the weights are fitted to tell close languages apart (Kirundi against Kinyarwanda,
isiZulu against isiXhosa, the Sotho-Tswana languages).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.language.char_ngrams import MAX_CHARS, CharNgramModel, ngram_buckets

BITS = 16
LONGEST = 4
EPOCHS = 3
LEARNING_RATE = 0.05
# Shrinks the weights of the n-grams a text has, each time the text is seen.
WEIGHT_DECAY = 1e-4
SEED = 11
# Short pieces cut from each training sentence, so short texts are seen in training too.
CROP_WORDS = (2, 4, 7)


@dataclass(frozen=True)
class Example:
    """One training text with its class (a reply-language code or "other")."""

    label: str
    text: str
    kind: str


def _stable(text: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha1((salt + text).encode("utf-8")).digest()[:4], "big")


def crops(text: str) -> list[str]:
    """A few runs of consecutive words of `text`, chosen by a fixed hash of the text."""
    words = text.split()
    found = []
    for size in CROP_WORDS:
        if len(words) > size + 1:
            start = _stable(text, str(size)) % (len(words) - size)
            found.append(" ".join(words[start : start + size]))
    return found


def with_crops(examples: Sequence[Example]) -> tuple[list[Example], list[int]]:
    """`examples` plus crops of their sentences; each item names the example it came from."""
    grown: list[Example] = []
    origin: list[int] = []
    for position, example in enumerate(examples):
        grown.append(example)
        origin.append(position)
        if example.kind == "sentence":
            for piece in crops(example.text):
                grown.append(Example(example.label, piece, "crop"))
                origin.append(position)
    return grown, origin


# Each text weighs texts_of_its_class ** -CLASS_POWER: 0 counts every text alike, 1 every class.
CLASS_POWER = 0.5


def class_weights(labels: Sequence[str], power: float = CLASS_POWER) -> dict[str, float]:
    """texts of the class ** -power: at 0.5 big classes count more, but not in proportion."""
    counts = Counter(labels)
    return {code: count**-power for code, count in counts.items()}


def fit(
    examples: Sequence[Example],
    languages: tuple[str, ...],
    buckets: Sequence[npt.NDArray[np.intp]],
    class_power: float = CLASS_POWER,
    bits: int = BITS,
    longest: int = LONGEST,
) -> CharNgramModel:
    """The classifier's averaged weights for `examples` (their n-gram buckets given, hashed into
    2**bits buckets from n-grams of up to `longest` characters)."""
    index = {code: position for position, code in enumerate(languages)}
    labels = np.array([index[example.label] for example in examples])
    weight_of = class_weights([example.label for example in examples], class_power)
    sample_weights = np.array([weight_of[example.label] for example in examples])
    sample_weights *= len(examples) / sample_weights.sum()
    bags = [np.unique(found, return_counts=True) for found in buckets]
    counts = [count.astype(np.float64) for _, count in bags]
    size = len(languages)
    weights = np.zeros((1 << bits, size))
    bias = np.zeros(size)
    # Averaging: `summed` holds step-weighted updates, so the mean of the iterates is
    # weights - summed / steps, without touching every row at every step.
    summed = np.zeros_like(weights)
    summed_bias = np.zeros(size)
    order = np.random.default_rng(SEED)
    step = 1
    for epoch in range(EPOCHS):
        rate = LEARNING_RATE / (1 + epoch)
        for row in order.permutation(len(examples)):
            rows, count = bags[row][0], counts[row]
            logits = count @ weights[rows] + bias
            logits -= logits.max()
            prob = np.exp(logits)
            prob /= prob.sum()
            prob[labels[row]] -= 1.0
            delta = (rate * sample_weights[row]) * prob
            update = count[:, None] * delta[None, :] + rate * WEIGHT_DECAY * weights[rows]
            weights[rows] -= update
            summed[rows] -= step * update
            bias -= delta
            summed_bias -= step * delta
            step += 1
    averaged = weights - summed / step
    averaged_bias = bias - summed_bias / step
    return CharNgramModel(languages, averaged.astype(np.float32), bits, averaged_bias, longest)


def buckets_of(
    examples: Sequence[Example], bits: int = BITS, longest: int = LONGEST
) -> list[npt.NDArray[np.intp]]:
    return [ngram_buckets(example.text[-MAX_CHARS:], bits, longest) for example in examples]
