"""The public language-identification data (shared/eval/langid), split into tuning and dev parts.

Each file `<code>.tsv` has `text, source, kind` columns (no quoting). A line belongs to the tuning
part when a hash of its text falls below `TUNING_SHARE`, else to dev: fixed, so every run, the
training script and the benchmarks agree on the split without storing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Share of each language's lines used to train the n-gram model and fit the combination.
TUNING_SHARE = 0.4
# The data names Chinese by script; the project uses "zh" and "zh-hant".
_CODES = {"zh-Hans": "zh", "zh-Hant": "zh-hant"}


@dataclass(frozen=True)
class LabelledText:
    """One line of the data: its BLOOM code, text, source and kind (`sentence` or `short`)."""

    language: str
    text: str
    source: str
    kind: str


def is_tuning(text: str) -> bool:
    """Whether `text` belongs to the tuning part (else dev), by a fixed hash of the text."""
    digest = hashlib.sha1(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < TUNING_SHARE


def read_langid(folder: Path) -> Iterator[LabelledText]:
    """Every line of every `<code>.tsv` in `folder`, in file order."""
    if not folder.is_dir():
        raise SystemExit(f"no language-identification data at {folder} (give --data DIR)")
    for path in sorted(folder.glob("*.tsv")):
        code = _CODES.get(path.stem, path.stem)
        with path.open(encoding="utf-8") as lines:
            next(lines, None)
            for line in lines:
                fields = line.rstrip("\n").split("\t")
                if len(fields) == 3 and fields[0].strip():
                    yield LabelledText(code, fields[0], fields[1], fields[2])


def load_part(folder: Path, part: str) -> list[LabelledText]:
    """The `tuning` or `dev` part of the data in `folder`."""
    want_tuning = part == "tuning"
    return [item for item in read_langid(folder) if is_tuning(item.text) == want_tuning]
