#!/bin/sh
# Runs a libFuzzer target: scripts/fuzz.sh NAME [SECONDS] [libFuzzer options...]
# Builds with clang in ./build-fuzz (-Dfuzz=true), fuzzes a temporary copy of the seed corpus
# tests/data/fuzz/NAME (the repository stays untouched) and writes crash inputs to
# build-fuzz/artifacts/NAME/. New corpus entries are kept only with KEEP_CORPUS=DIR.
set -e
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
    echo "usage: $0 NAME [SECONDS] [libFuzzer options...]" >&2
    exit 2
fi
name=$1
seconds=${2:-60}
[ $# -ge 2 ] && shift 2 || shift 1
seeds=tests/data/fuzz/$name
if [ ! -d "$seeds" ]; then
    echo "fuzz.sh: no seed corpus $seeds" >&2
    exit 2
fi
if [ ! -f build-fuzz/build.ninja ]; then
    CXX=clang++ CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null
fi
ninja -C build-fuzz --quiet "tests/fuzz/fuzz_$name"

corpus=$(mktemp -d "${TMPDIR:-/tmp}/tsnitch-fuzz-$name.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp -R "$seeds/." "$corpus/"
artifacts=build-fuzz/artifacts/$name
mkdir -p "$artifacts"
set +e
"build-fuzz/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -artifact_prefix="$artifacts/" \
    -print_final_stats=1 "$@" "$corpus"
status=$?
set -e
if [ -n "$KEEP_CORPUS" ]; then
    mkdir -p "$KEEP_CORPUS"
    cp -R "$corpus/." "$KEEP_CORPUS/"
    echo "fuzz.sh: corpus kept in $KEEP_CORPUS" >&2
fi
[ $status -eq 0 ] || echo "fuzz.sh: $name found a problem; inputs in $artifacts/" >&2
exit $status
