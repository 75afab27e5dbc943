#!/usr/bin/env bash
# Install what the desktop app needs (tools/install.sh --desktop), then start it.
# Arguments go to the app, e.g. tools/install-and-run-app.sh --data-dir /tmp/desk --port 8440
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash "$root/tools/install.sh" --desktop

if [[ "$(uname -s)" == Linux && -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
    echo "== no display: starting offscreen (no window is visible; the issuer runs until Ctrl+C)"
    export QT_QPA_PLATFORM=offscreen
fi

echo "== .venv/bin/frontdesk $*"
exec "$root/.venv/bin/frontdesk" "$@"
