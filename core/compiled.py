"""Numba compilation for the few numeric loops on the hot path, its machine code cached on disk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

_Function = TypeVar("_Function", bound=Callable[..., Any])


def compiled(function: _Function) -> _Function:
    """`function` compiled by numba at its first call (for each argument type), the machine
    code cached on disk (beside its module, or in NUMBA_CACHE_DIR) so a later process only
    loads it; where no folder is writable (a read-only image), compiled in each process."""
    try:
        return cast(_Function, numba.njit(cache=True, nogil=True)(function))
    except RuntimeError:  # numba finds no writable cache folder
        return cast(_Function, numba.njit(nogil=True)(function))
