#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: unit tests and the integration tests
# (real app on 127.0.0.1, Locust, Chromium, PostgreSQL in a throwaway cluster).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not integration"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck source=/dev/null
source scripts/pg_throwaway.sh start
trap 'bash scripts/pg_throwaway.sh stop' EXIT
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
