"""Sentences of the public language-identification set (`<data>/langid/<code>.tsv`), read in place."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval"
# File names of the set that differ from BLOOM codes.
_FILES = {"zh": "zh-Hans", "zh-hant": "zh-Hant"}


def langid_sentences(data: Path, code: str, *, kind: str = "sentence") -> list[str]:
    """The texts of `kind` ("sentence" or "short") for BLOOM language `code`, in file order."""
    path = data / "langid" / f"{_FILES.get(code, code)}.tsv"
    texts: list[str] = []
    with path.open(encoding="utf-8") as lines:
        next(lines)  # header: text, source, kind
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 3 and fields[2] == kind:
                texts.append(fields[0])
    return texts
