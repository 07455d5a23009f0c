"""The n-gram model's hashing and sums: the compiled paths give the plain definition's answers."""

from __future__ import annotations

import random

import numpy as np

from core.language.char_ngrams import (
    MAX_ORDER,
    CharNgramModel,
    code_points,
    ngram_buckets,
    words_only,
)

_PRIME = 1000003
_MIX = 0x9E3779B97F4A7C15


def plain_buckets(text: str, bits: int, longest: int) -> list[int]:
    """Every n-gram's bucket as the model defines it: per order, a rolling polynomial of the
    code points of `words_only(text)` plus that order's salt, mixed, its top `bits` bits."""
    points = [ord(char) for char in words_only(text)]
    found: list[int] = []
    previous = points
    found += previous
    for order in range(2, min(longest, len(points)) + 1):
        salt = order * _MIX % 2**64
        previous = [
            (hashed * _PRIME + point + salt) % 2**64
            for hashed, point in zip(previous[:-1], points[order - 1 :], strict=True)
        ]
        found += previous
    return [hashed * _MIX % 2**64 >> (64 - bits) for hashed in found]


def test_ascii_text_has_the_code_points_of_its_words() -> None:
    rng = random.Random(5)
    every_ascii = "".join(chr(code) for code in range(128))
    texts = [every_ascii, "", " ", "Hello, World! 42 times_over", "\x00a\x1fb\x7fc"]
    texts += [
        "".join(rng.choice(every_ascii) for _ in range(rng.randint(0, 40))) for _ in range(500)
    ]
    for text in texts:
        expected = [ord(char) for char in words_only(text)]
        assert code_points(text).tolist() == expected, repr(text)


def test_the_buckets_are_those_of_the_plain_definition() -> None:
    texts = [
        "",
        "a",
        "ab",
        "Ke a leboga kudu ka thušo ya gago.",
        "The atom holds protons and neutrons.",
        "كان الطقس جميلا في المدينة يوم أمس.",
        "Ẹ kú àárọ̀, ṣé dáadáa ni?",
        "emoji 👍 and 12 numbers",
    ]
    for text in texts:
        for bits, longest in ((16, MAX_ORDER), (18, 5)):
            found = ngram_buckets(text, bits, longest)
            assert found.dtype == np.intp
            assert found.tolist() == plain_buckets(text, bits, longest), text


def test_the_summed_weights_are_those_of_the_buckets() -> None:
    rng = np.random.default_rng(3)
    weights = rng.normal(size=(2**10, 5)).astype(np.float32)
    bias = rng.normal(size=5).astype(np.float32)
    model = CharNgramModel(("a", "b", "c", "d", "e"), weights, bits=10, bias=bias)
    for text in ("", "a", "Ẹ kú àárọ̀", "The atom holds protons.", "كان الطقس جميلا", "x 👍 y"):
        expected = weights[ngram_buckets(text, 10)].sum(axis=0) + bias
        found = model.scores(text)
        assert found.ngrams == len(ngram_buckets(text, 10))
        np.testing.assert_allclose(found.logits, expected, rtol=1e-5, atol=1e-5)
