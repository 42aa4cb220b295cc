#!/bin/sh
# Quick start and CI: installs what is missing, builds, and runs
#   1. the whole test suite (unit, lint, integration, TUI) in ./build;
#   2. the unit suite again in ./build-fuzz, where clang instruments everything with ASan and
#      UBSan (-Dfuzz=true; a leak, an overflow or undefined behaviour fails a test);
#   3. every fuzz target for a short smoke time (FUZZ_SECONDS, default 10) from its seed corpus,
#      with a fixed seed and a 10 s limit per input (a hang fails too).
# The last line sums all three: "N passed, N failed[, N skipped]".
# SANITIZE=0 leaves out 2 and 3 (the plain suite only); arguments go to the first meson test.
set -e
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
set +e
status=0
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=1
logs=build/meson-logs/testlog.json
if [ "${SANITIZE:-1}" != 0 ]; then
    if [ ! -f build-fuzz/build.ninja ]; then
        CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null || status=1
    fi
    # halt_on_error: UBSan's findings fail the test like ASan's do. The sanitizers make everything
    # 2-4 times slower: so are the timeouts.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-fuzz --print-errorlogs --num-processes 2 --timeout-multiplier 4 \
        --suite unit || status=1
    logs="$logs build-fuzz/meson-logs/testlog.json"
    smoke=build-fuzz/fuzz-smoke.json
    : >"$smoke"
    for dir in tests/data/fuzz/*/; do
        name=$(basename "$dir")
        # A fixed seed: the same inputs here and in CI (a shorter run is a prefix of the same
        # sequence), so the smoke can only fail on a bug, not on luck.
        if ./scripts/fuzz.sh "$name" "${FUZZ_SECONDS:-10}" -seed=1 -timeout=10 \
            >"build-fuzz/fuzz-smoke-$name.log" 2>&1
        then
            result=OK
        else
            result=FAIL
            status=1
            echo "fuzz smoke $name failed:" >&2
            tail -n 30 "build-fuzz/fuzz-smoke-$name.log" >&2
        fi
        echo "{\"name\": \"fuzz-smoke-$name\", \"result\": \"$result\"}" >>"$smoke"
    done
    logs="$logs $smoke"
fi
# shellcheck disable=SC2086
python3 scripts/test-summary.py $logs
summary=$?
[ $status -eq 0 ] && [ $summary -eq 0 ]
