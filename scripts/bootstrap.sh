#!/usr/bin/env bash
# Creates .venv from the lock file. Needs only Python 3.11+ (uv itself comes from PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Silta needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)." >&2
    exit 1
fi
UV_VERSION=0.13.9
if [ ! -x .uv/bin/uv ] || [ "$(.uv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "==> installing uv $UV_VERSION into .uv/"
    "$PYTHON" -m venv .uv
    .uv/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
export UV_PYTHON_DOWNLOADS=never
.uv/bin/uv sync --locked --quiet --python "$PYTHON" "$@"
# The Helsinki Design System's CSS (and, for the tests, axe-core) from the npm registry,
# exactly as package-lock.json pins them. Served from node_modules, never committed.
if ! command -v npm >/dev/null 2>&1; then
    echo "Silta's web pages need Node.js 20+ and npm for the Helsinki Design System's CSS" >&2
    echo "(Debian: apt-get install nodejs npm)." >&2
    exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> installing the front-end packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
fi
