#!/bin/sh
# Quick start: install what is missing, build, and run the whole test suite (unit, lint,
# integration, TUI). The last line is "N passed, N failed[, N skipped]".
set -e
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
set +e
meson test -C build --print-errorlogs --num-processes 2 "$@"
status=$?
python3 scripts/test-summary.py build/meson-logs/testlog.json
summary=$?
[ $status -eq 0 ] && [ $summary -eq 0 ]
