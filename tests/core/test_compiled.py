"""Numba compilation works with and without a folder for its cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.compiled import compiled


def test_a_compiled_function_gives_the_python_answer() -> None:
    def plus_one(value: int) -> int:
        return value + 1

    assert compiled(plus_one)(41) == 42


def test_without_a_writable_cache_folder_a_function_still_compiles(tmp_path: Path) -> None:
    # A read-only image: numba can write its cache neither beside the source (here a file
    # stands where the `__pycache__` folder would go) nor in any user folder it knows.
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    (tmp_path / "__pycache__").write_text("")
    (tmp_path / "compiled_here.py").write_text(
        "from core.compiled import compiled\n"
        "def plus_one(value: int) -> int:\n"
        "    return value + 1\n"
        "print(compiled(plus_one)(41))\n"
    )
    unwritable = {
        "NUMBA_CACHE_DIR": str(blocker / "numba"),
        "XDG_CACHE_HOME": str(blocker / "cache"),
        "HOME": str(blocker),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    finished = subprocess.run(
        [sys.executable, "compiled_here.py"],
        cwd=tmp_path,
        env={**os.environ, **unwritable},
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "42"
