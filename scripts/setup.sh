#!/usr/bin/env bash
# Set up Moni Lab on a fresh Debian/Ubuntu machine: system packages (Chromium for the browser
# journeys, a CJK font so Korean text renders in Chromium and the report's figures, PostgreSQL
# for the database tests), a virtualenv in .venv, the project in it.
# Idempotent: re-running it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/lib/chromium/chromium ] || need_apt+=(chromium)
# Without a font that has Hangul, every Korean character is an empty box (pages, screenshots).
if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=ko family)" ]; then
  need_apt+=(fonts-noto-cjk)
fi
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: please install these Debian packages first: ${need_apt[*]}" >&2; exit 1
  fi
  echo "setup: installing ${need_apt[*]} (apt-get)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
if [[ " ${need_apt[*]} " == *" fonts-noto-cjk "* ]]; then
  # matplotlib's font list is a cache made before the new font: rebuilt on its next import
  rm -f "$(.venv/bin/python -c 'import matplotlib; print(matplotlib.get_cachedir())')"/fontlist-*.json
fi
echo "setup: ready (.venv/bin/monilab)"
