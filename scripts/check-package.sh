#!/bin/sh
# Installs, checks and removes a tsnitch .deb in a fresh Debian chroot (root only):
#   scripts/check-package.sh DEB CHROOT
# CHROOT is a debootstrap tree (debootstrap --variant=minbase bookworm CHROOT); apt-get in it
# fetches the Depends. Checks: the files and modes, `tsnitch --version`, `rules list` of the
# example rules, conffiles kept by `dpkg -r` and gone after `dpkg -P`, nothing else left.
set -eu
deb=$1
chroot=$2
[ "$(id -u)" = 0 ] || { echo "check-package.sh: needs root" >&2; exit 1; }
in_chroot() { chroot "$chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive "$@"; }
fail() { echo "check-package.sh: FAIL: $*" >&2; exit 1; }
cp /etc/resolv.conf "$chroot/etc/resolv.conf"
cp "$deb" "$chroot/tmp/tsnitch.deb"
in_chroot apt-get update -qq
in_chroot apt-get install -y -qq --no-install-recommends /tmp/tsnitch.deb >/dev/null
mode() { stat -c %a "$chroot$1"; }
[ "$(mode /usr/sbin/tsnitch)" = 755 ] || fail "/usr/sbin/tsnitch mode $(mode /usr/sbin/tsnitch)"
[ "$(mode /etc/tsnitch)" = 755 ] || fail "/etc/tsnitch mode"
[ "$(mode /etc/tsnitch/default-config.json)" = 644 ] || fail "default-config.json mode"
[ "$(mode /etc/tsnitch/rules)" = 700 ] || fail "rules directory mode"
for f in "$chroot"/etc/tsnitch/rules/*.json; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f mode"
done
[ -f "$chroot/lib/systemd/system/tsnitch.service" ] || fail "unit missing"
grep -qx 'ExecStart=/usr/sbin/tsnitch run --headless' "$chroot/lib/systemd/system/tsnitch.service" ||
    fail "unit ExecStart"
[ -f "$chroot/usr/share/man/man8/tsnitch.8.gz" ] || fail "tsnitch.8.gz missing"
[ -f "$chroot/usr/share/man/man5/tsnitch-rules.5.gz" ] || fail "tsnitch-rules.5.gz missing"
in_chroot /usr/sbin/tsnitch --version
in_chroot /usr/sbin/tsnitch rules list
in_chroot dpkg-query -W -f='${Conffiles}\n' tsnitch | grep -q /etc/tsnitch/default-config.json ||
    fail "default-config.json is not a conffile"

# An administrator's change survives a reinstall.
echo '{"DefaultAction": "allow"}' >"$chroot/etc/tsnitch/default-config.json"
in_chroot dpkg -i /tmp/tsnitch.deb >/dev/null </dev/null
grep -q '"allow"' "$chroot/etc/tsnitch/default-config.json" || fail "reinstall overwrote the config"

in_chroot dpkg -r tsnitch >/dev/null
[ ! -e "$chroot/usr/sbin/tsnitch" ] || fail "binary left after dpkg -r"
[ ! -e "$chroot/lib/systemd/system/tsnitch.service" ] || fail "unit left after dpkg -r"
[ -f "$chroot/etc/tsnitch/default-config.json" ] || fail "dpkg -r removed a conffile"
in_chroot dpkg -P tsnitch >/dev/null
[ ! -e "$chroot/etc/tsnitch" ] || fail "/etc/tsnitch left after dpkg -P: $(ls -la "$chroot/etc/tsnitch")"
in_chroot dpkg-query -W tsnitch >/dev/null 2>&1 && fail "package still known to dpkg"
echo "check-package.sh: $deb installs, works and removes cleanly in $chroot"
