#!/bin/sh
# Fails when a man page has a roff warning (the lint suite).
root=${1:-.}
command -v groff >/dev/null 2>&1 || { echo "SKIP: groff is not installed"; exit 77; }
status=0
for page in "$root"/man/*.[1-9]; do
    out=$(groff -man -ww -z -Tutf8 "$page" 2>&1)
    if [ -n "$out" ]; then
        echo "$page: $out"
        status=1
    fi
done
exit $status
