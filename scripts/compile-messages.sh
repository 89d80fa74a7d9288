#!/usr/bin/env bash
# Compiles locale/*/LC_MESSAGES/django.po to .mo (committed, so `make run` needs no gettext).
# With --check: fails if a .po has an untranslated or fuzzy entry, or a committed .mo is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v msgfmt >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
    else
        echo "msgfmt not found: install GNU gettext (Debian: apt-get install gettext)" >&2
        exit 1
    fi
fi
status=0
if [ "${1:-}" = "--check" ]; then
    # Every translatable string in the code is in the catalogues and translated: extract
    # afresh into a copy, count what is untranslated, and put the committed files back.
    saved=$(mktemp -d)
    cp -r locale "$saved/"
    restore() { rm -rf locale && cp -r "$saved/locale" . && rm -rf "$saved"; }
    trap restore EXIT
    DJANGO_DEBUG=1 DJANGO_SECRET_KEY=x .venv/bin/python manage.py makemessages -l fi -l sv \
        --no-location --ignore ".venv/*" --ignore ".uv/*" --ignore "node_modules/*" --ignore "tests/*" >/dev/null
    for po in locale/*/LC_MESSAGES/django.po; do
        missing=$(msgattrib --clear-fuzzy --empty --no-obsolete "$po" \
            | msgattrib --untranslated --no-wrap | grep '^msgid ' | grep -vc '^msgid ""$' || true)
        if [ "$missing" != 0 ]; then
            echo "$po: $missing strings in the code are not translated (run make messages)" >&2
            status=1
        fi
    done
    restore
    trap - EXIT
fi
for po in locale/*/LC_MESSAGES/django.po; do
    mo=${po%.po}.mo
    stats=$(LC_ALL=C msgfmt --check --statistics -o "$mo.new" "$po" 2>&1)
    if [ "${1:-}" = "--check" ]; then
        if echo "$stats" | grep -qE "untranslated|fuzzy"; then
            echo "$po: $stats" >&2; status=1
        fi
        if ! cmp -s "$mo.new" "$mo"; then
            echo "$mo is stale or missing: run ./scripts/compile-messages.sh and commit it" >&2
            status=1
        fi
        rm -f "$mo.new"
    else
        mv "$mo.new" "$mo"
        echo "$po: $stats"
    fi
done
exit $status
