#!/bin/sh
# Installs the Debian 12 packages tsnitch needs to build, run and test, when any is missing.
set -e
PKGS="meson ninja-build pkg-config g++ clang llvm bpftool libbpf-dev libnetfilter-queue-dev
libmnl-dev libyaml-cpp-dev libre2-dev libssl-dev doctest-dev libncurses-dev iptables nftables iproute2
python3 procps tmux clang-format groff-base libclang-rt-14-dev git ca-certificates"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "tsnitch: missing packages:$missing; run this as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "tsnitch: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
