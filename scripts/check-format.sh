#!/bin/sh
# Fails when a C/C++ file of ours is not clang-format clean (the lint suite).
root=${1:-.}
cd "$root" || exit 1
if ! command -v clang-format >/dev/null 2>&1; then
    echo "SKIP: clang-format is not installed"
    exit 77
fi
files=$(git ls-files -co --exclude-standard -- '*.cpp' '*.h' '*.c' 2>/dev/null || find src tests bench -name '*.cpp' -o -name '*.h' -o -name '*.c')
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
