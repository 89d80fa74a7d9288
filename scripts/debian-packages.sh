#!/usr/bin/env bash
# What the test command needs from Debian's packages (gettext, Redis, Chromium and its
# driver for the browser tests), installed in one `apt-get update` when missing.
set -euo pipefail
missing=()
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x "${SILTA_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ ${#missing[@]} = 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${missing[*]} from Debian's packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "missing: ${missing[*]}. Install them (Debian: apt-get install ${missing[*]})." >&2
    exit 1
fi
