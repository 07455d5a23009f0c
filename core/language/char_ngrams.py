"""A compact character n-gram model (hashed linear classifier) shipped as package data.

It covers the BLOOM languages that share a script with others, including those no library knows
(Bambara, Fon, Kikuyu, Akan/Twi) and pairs libraries confuse (Kirundi against Kinyarwanda,
isiZulu against isiXhosa, the Sotho-Tswana languages), plus an "other" class for text in
languages outside BLOOM. A text's score for a language is the sum of one weight per character
n-gram (hashed into 2**bits buckets) plus a bias, summed in one compiled pass. Weights are
trained discriminatively by `bench/language_ngram_train.py` on openly licensed text; see
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

from core.language.ngram_sums import buckets, order_salts, summed_weights

# The longest n-gram: every n-gram of 1 to MAX_ORDER characters is a feature.
MAX_ORDER = 4
# Spaces, digits and punctuation separate words; every other character (letters and the vowel
# signs of Indic scripts alike) is part of one.
_SEPARATORS = re.compile(
    r"[\s\d_!-/:-@\[-`{-~\u00a0-\u00bf\u2000-\u206f\u3000-\u303f\uff01-\uff20"
    r"\u060c\u061b\u061f\u06d4\u0964\u0965]+"
)
WEIGHTS_FILE = "char_ngrams.npz"
# The second model, for close neighbours only (`core/language/neighbours.py`).
NEIGHBOURS_FILE = "neighbour_ngrams.npz"
# The last characters of a long text say enough (and in a growing reply they are the newest: a
# run-on sentence that turns to another language is read where it turned); reading more only
# costs time.
MAX_CHARS = 240
OTHER = "other"


def words_only(text: str) -> str:
    """`text` lower-cased with digits and punctuation turned into single spaces, padded."""
    return " " + _SEPARATORS.sub(" ", text.lower()).strip() + " "


# For Latin-1 text, `words_only` as one byte translation: separators to spaces, capitals to
# small (every small letter of a Latin-1 capital is in Latin-1 too).
_LATIN1_WORDS = bytes(
    32 if _SEPARATORS.match(chr(code)) else ord(chr(code).lower()) for code in range(256)
)
_LATIN1_END = "\xff"


def code_points(text: str) -> npt.NDArray[np.uint8] | npt.NDArray[np.uint32]:
    """The code points of `words_only(text)`; for Latin-1 text (English, French, Spanish,
    Portuguese... most messages) without building that string or running the regular
    expression: its bytes are its code points."""
    if text.isascii() or max(text) <= _LATIN1_END:
        words = text.encode("latin-1").translate(_LATIN1_WORDS).split()
        return np.frombuffer(b" " + b" ".join(words) + b" ", dtype=np.uint8)
    return np.frombuffer(words_only(text).encode("utf-32-le"), dtype=np.uint32)


def ngram_buckets(text: str, bits: int, longest: int = MAX_ORDER) -> npt.NDArray[np.intp]:
    """The hash bucket (of 2**bits) of every character n-gram of `text`, all orders together."""
    return buckets(code_points(text), bits, order_salts(longest))


@dataclass(frozen=True)
class NgramScores:
    """Per-language scores (logits) of a text and how many n-grams they were summed over."""

    languages: tuple[str, ...]
    logits: npt.NDArray[np.float32]
    ngrams: int


class CharNgramModel:
    """One weight per (hash bucket, language) and a bias per language; logits are their sums."""

    def __init__(
        self,
        languages: tuple[str, ...],
        weights: npt.NDArray[np.floating[Any]],
        bits: int,
        bias: npt.NDArray[np.floating[Any]] | None = None,
        longest: int = MAX_ORDER,
    ) -> None:
        self.languages = languages
        self.bits = bits
        self.longest = longest
        self._weights = np.ascontiguousarray(weights, dtype=np.float32)
        self._bias = (
            np.zeros(len(languages), dtype=np.float32)
            if bias is None
            else np.asarray(bias, dtype=np.float32)
        )
        self.index = {code: position for position, code in enumerate(languages)}
        self._salts = order_salts(longest)
        # Per subset of languages asked for, its columns of the weights (copied once).
        self._subsets: dict[
            tuple[str, ...], tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]
        ] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The weights and what describes them; the column copies are rebuilt.
        return {
            "languages": self.languages,
            "_weights": self._weights,
            "bits": self.bits,
            "_bias": self._bias,
            "longest": self.longest,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["languages"], state["_weights"], state["bits"], state["_bias"], state["longest"]
        )

    def scores(self, text: str, among: tuple[str, ...] | None = None) -> NgramScores:
        """The logits of `text` (its last `MAX_CHARS` characters) for each language, or for
        the languages `among` only (the candidates of a script: fewer weights to read)."""
        languages, weights, bias = (
            (self.languages, self._weights, self._bias) if among is None else self._subset(among)
        )
        points = code_points(text[-MAX_CHARS:])
        logits, count = summed_weights(points, self.bits, self._salts, weights, bias)
        return NgramScores(languages, logits, count)

    def warm_up(self) -> None:
        """Compile (or load from numba's cache) the scoring of both kinds of text, Latin-1 and
        wider, now rather than at the first message."""
        self.scores("a")
        self.scores("\u0430")

    def _subset(
        self, among: tuple[str, ...]
    ) -> tuple[tuple[str, ...], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        found = self._subsets.get(among)
        if found is None:
            columns = [self.index[code] for code in among]
            found = (np.ascontiguousarray(self._weights[:, columns]), self._bias[columns])
            self._subsets[among] = found
        return among, found[0], found[1]

    def save(self, path: str) -> None:
        """Write the weights (float16) with their bias, languages and hash size."""
        np.savez_compressed(
            path,
            weights=self._weights.astype(np.float16),
            bias=self._bias,
            languages=np.array(self.languages),
            bits=np.array(self.bits),
            longest=np.array(self.longest),
        )

    @classmethod
    def from_file(cls, source: Any) -> CharNgramModel:
        """Read weights written by `save` (a path or an open binary file)."""
        with np.load(source) as stored:
            languages = tuple(str(code) for code in stored["languages"])
            bias = stored["bias"] if "bias" in stored.files else None
            longest = int(stored["longest"]) if "longest" in stored.files else MAX_ORDER
            return cls(languages, stored["weights"], int(stored["bits"]), bias, longest)


_LOCK = threading.Lock()
_SHIPPED: dict[str, CharNgramModel] = {}


def shipped_model(name: str = WEIGHTS_FILE) -> CharNgramModel:
    """A model in the package data (`name`: its file), loaded once per process."""
    with _LOCK:
        found = _SHIPPED.get(name)
        if found is None:
            folder = resources.files("core").joinpath("data", "language")
            with folder.joinpath(name).open("rb") as handle:
                found = _SHIPPED[name] = CharNgramModel.from_file(handle)
            found.warm_up()
        return found
