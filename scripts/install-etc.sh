#!/bin/sh
# meson's install script for /etc/tsnitch (see data/meson.build):
#   install-etc.sh ETCDIR CONFIG RULE...
# Creates ETCDIR (0755) with the default configuration (0644) unless one is there, and ETCDIR/rules
# (0700: rules are nobody else's business) with the example rules (0600) when that directory is
# new. A re-install never overwrites what the administrator changed, nor brings back an example
# rule that was deleted.
set -eu
etc="${DESTDIR:-}$1"
config="$2"
shift 2
install -d -m 0755 "$etc"
if [ -e "$etc/default-config.json" ]; then
    echo "install-etc.sh: keeping the existing $etc/default-config.json"
else
    install -m 0644 "$config" "$etc/default-config.json"
fi
if [ -e "$etc/rules" ]; then
    echo "install-etc.sh: keeping the existing $etc/rules"
else
    install -d -m 0700 "$etc/rules"
    for rule in "$@"; do
        install -m 0600 "$rule" "$etc/rules/$(basename "$rule")"
    done
fi
