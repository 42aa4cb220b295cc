#!/bin/sh
# Quick start: install what is missing, build, and run tsnitch with the built-in default config.
# Arguments are passed to tsnitch (e.g. --headless, --config FILE).
set -e
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
exec ./build/src/tsnitch "$@"
