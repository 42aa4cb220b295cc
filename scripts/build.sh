#!/bin/sh
# Configures (once) and builds tsnitch in ./build.
set -e
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
    meson setup build >/dev/null
fi
ninja -C build --quiet
