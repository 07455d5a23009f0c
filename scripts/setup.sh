#!/usr/bin/env bash
# Creates .venv with Python 3.11+ and installs bloombridge with the extras named in $1 (e.g. "dev" or "local").
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python_bin="${PYTHON:-python3}"
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bloombridge needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$python_bin" -m venv .venv
fi
# Install only when the project or its dependencies changed since the last install.
stamp=".venv/.installed-${extras:-core}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -qq --upgrade pip
    spec="."
    [ -n "$extras" ] && spec=".[$extras]"
    .venv/bin/python -m pip install -qq -e "$spec"
    touch "$stamp"
fi
