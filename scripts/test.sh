#!/bin/sh
# Quick start and CI: installs what is missing, builds, and runs
#   1. the whole test suite (unit, lint, integration, TUI) in ./build;
#   2. the unit suite and the integration tests of the suite 'sanitized' (tests/integration/
#      meson.build says which and why) again in ./build-fuzz, where clang instruments everything
#      with ASan and UBSan (-Dfuzz=true; a leak, an overflow or undefined behaviour fails a test,
#      also one in the tsnitch binary that an integration test runs);
#   3. every fuzz target for a short smoke time (FUZZ_SECONDS, default 5) from its seed corpus,
#      with a fixed seed and a 10 s limit per input (a hang fails too).
# The last line sums all three: "N passed, N failed[, N skipped]".
# SANITIZE=0 leaves out 2 and 3 (the plain suite only); arguments go to the first meson test.
set -e
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh
set +e
status=0
if [ "${SANITIZE:-1}" != 0 ]; then
    # The sanitizer build (everything: tests, their helper programs, the fuzz targets) compiles
    # while the plain suite runs, whose integration tests mostly wait on the kernel: at the lowest
    # priority, so that the tests get the CPU whenever they want it.
    if [ ! -f build-fuzz/build.ninja ]; then
        CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null || status=1
    fi
    mkdir -p build-fuzz
    nice -n 19 ninja -C build-fuzz --quiet >build-fuzz/build.log 2>&1 &
    sanitizer_build=$!
fi
meson test -C build --print-errorlogs --num-processes 2 "$@" || status=1
logs=build/meson-logs/testlog.json
if [ "${SANITIZE:-1}" != 0 ]; then
    if ! wait "$sanitizer_build"; then
        status=1
        echo "the sanitizer build failed:" >&2
        tail -n 50 build-fuzz/build.log >&2
    fi
    # halt_on_error: UBSan's findings fail the test like ASan's do. The sanitizers make the unit
    # tests 2-4 times slower: so are their timeouts. The integration tests wait on the kernel and
    # on each other more than they compute: twice their timeout (300 s) is plenty.
    sanitized() {
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            meson test -C build-fuzz --print-errorlogs --num-processes 2 "$@" || status=1
    }
    sanitized --timeout-multiplier 4 --suite unit
    sanitized --timeout-multiplier 2 --suite sanitized --logbase sanitized
    logs="$logs build-fuzz/meson-logs/testlog.json build-fuzz/meson-logs/sanitized.json"
    smoke=build-fuzz/fuzz-smoke.json
    : >"$smoke"
    for dir in tests/data/fuzz/*/; do
        name=$(basename "$dir")
        # A fixed seed: the same inputs here and in CI (a shorter run is a prefix of the same
        # sequence), so the smoke can only fail on a bug, not on luck.
        if ./scripts/fuzz.sh "$name" "${FUZZ_SECONDS:-5}" -seed=1 -timeout=10 \
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
