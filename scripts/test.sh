#!/usr/bin/env bash
# Sets up the project with its test and local-model extras, then runs lint, types and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "dev,local"
scripts/ensure_redis.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
