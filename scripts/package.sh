#!/bin/sh
# Builds a Debian package of tsnitch from the meson install tree:
#   scripts/package.sh [OUTDIR]          (default OUTDIR: ./dist)
# It configures its own build directory, build-deb (prefix /usr, the unit in /lib/systemd/system),
# builds the binary, installs into a staging tree with `meson install --destdir`, and packs that
# tree with dpkg-deb: conffiles for /etc/tsnitch, Depends from the binary's shared libraries
# (dpkg-shlibdeps) plus iptables, compressed man pages. The service is not enabled or started by
# the package: with DefaultAction deny that is a decision for the administrator (tsnitch(8)).
set -eu
cd "$(dirname "$0")/.."
out="${1:-dist}"
build=build-deb
./scripts/deps.sh
if [ ! -f "$build/build.ninja" ]; then
    # meson's default -O2 build (the test suite's build drops only its debug information); the
    # binary is stripped below.
    meson setup "$build" --prefix=/usr -Dsystemdunitdir=/lib/systemd/system \
        >/dev/null
fi
ninja -C "$build" --quiet src/tsnitch

version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" meson.build)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d "${TMPDIR:-/tmp}/tsnitch-package-XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
meson install -C "$build" --no-rebuild --quiet --destdir "$root"
strip --strip-unneeded "$root/usr/sbin/tsnitch"
find "$root/usr/share/man" -type f -exec gzip -9n {} +
install -d -m 0755 "$root/usr/share/doc/tsnitch"
gzip -9nc README.md >"$root/usr/share/doc/tsnitch/README.md.gz"

# Depends: the packages of the shared libraries the binary links (dpkg-shlibdeps reads a
# debian/control, so it gets a minimal one of its own).
mkdir -p "$stage/src/debian"
printf 'Source: tsnitch\n\nPackage: tsnitch\nArchitecture: any\n' >"$stage/src/debian/control"
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O -e "$root/usr/sbin/tsnitch" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

install -d -m 0755 "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: tsnitch
Version: $version
Architecture: $arch
Maintainer: tsnitch developers <tsnitch@localhost>
Installed-Size: $size
Depends: $shlibs, iptables
Suggests: nftables
Section: net
Priority: optional
Description: interactive application firewall for the terminal
 tsnitch pauses each new outbound connection (NFQUEUE), finds the process
 behind it (eBPF, sock_diag or /proc) and applies a rule or asks the person at
 the terminal: allow, deny or reject, for how long and for what scope. It reads
 OpenSnitch's rule files unchanged. The package ships the tsnitch.service unit
 (headless), not enabled: read "RUNNING AS A SERVICE" in tsnitch(8) first.
CONTROL
(cd "$root" && find etc -type f | sort | sed 's|^|/|') >"$root/DEBIAN/conffiles"

cat >"$root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
SCRIPT
cat >"$root/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
# A running service is stopped before its binary goes: that removes its firewall rules.
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
    systemctl stop tsnitch.service || true
fi
SCRIPT
cat >"$root/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    # Rules written by tsnitch (answers "always") are configuration too; dpkg removes its own
    # conffiles.
    rm -rf /etc/tsnitch/rules
    rmdir /etc/tsnitch 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
SCRIPT
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/tsnitch_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
