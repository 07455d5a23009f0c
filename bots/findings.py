"""One `bloombridge doctor` check's result, shared by the modules that hold the checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One check's result: `ok` or a problem with what to do about it."""

    ok: bool
    subject: str
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.subject}: {self.detail}"
