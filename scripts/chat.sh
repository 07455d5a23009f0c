#!/usr/bin/env bash
# Sets up the project and starts the console bot (in-process model unless BLOOMBRIDGE_TGI_URLS is set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "local"
exec .venv/bin/bloombridge chat "$@"
