"""The public safety evaluation set (shared/eval/safety), read in place and split into tuning and dev.

Each `<code>.tsv` holds `text, label, category, source, role` (see shared/eval/README.md). A row
belongs to the tuning or the dev part by a hash of its text, so the split is the same on every
machine and a text never lands in both. Tune on `tuning`, report `dev`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

TUNING = "tuning"
DEV = "dev"
# Sources whose rows must never train anything the package ships (RTP-LX asks that derived sets
# stay internal); see shared/eval/README.md.
NOT_FOR_TRAINING = frozenset({"rtp-lx"})


@dataclass(frozen=True)
class SafetyRow:
    """One labelled text of the public set."""

    language: str
    text: str
    harmful: bool
    category: str  # the harm category (for benign rows: what it looks like, or "none")
    source: str  # `<dataset>:<sub-label>`
    role: str  # "user" or "reply"

    @property
    def dataset(self) -> str:
        return self.source.split(":", 1)[0]

    @property
    def part(self) -> str:
        """`tuning` or `dev`: half the rows each, decided by the text alone."""
        digest = hashlib.sha256(f"{self.language}\t{self.text}".encode()).digest()
        return TUNING if digest[0] % 2 == 0 else DEV

    @property
    def trainable(self) -> bool:
        """Whether a shipped model may learn from this row (never RTP-LX)."""
        return self.dataset not in NOT_FOR_TRAINING


def read_language(path: Path) -> list[SafetyRow]:
    """The rows of one `<code>.tsv` file (plain TSV, no quoting, one header row)."""
    language = path.name.removesuffix(".tsv")
    rows = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        text, label, category, source, role = line.split("\t")
        rows.append(SafetyRow(language, text, label == "harmful", category, source, role))
    return rows


def read_rows(folder: Path, part: str | None = None) -> list[SafetyRow]:
    """Every row under `folder` (one file per language), or only the `part` given."""
    if not folder.is_dir():
        raise SystemExit(
            f"{folder} is not a folder: pass --data pointing at shared/eval/safety "
            "(e.g. --data ../shared/eval/safety from the project checkout)"
        )
    rows = [row for path in sorted(folder.glob("*.tsv")) for row in read_language(path)]
    return rows if part is None else [row for row in rows if row.part == part]


def languages(rows: Iterable[SafetyRow]) -> list[str]:
    """The languages present, sorted."""
    return sorted({row.language for row in rows})
