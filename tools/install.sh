#!/usr/bin/env bash
# Install what Frontdesk Issuer needs, from the repository root, on Debian or Ubuntu:
#   - system libraries Qt needs (only as root; otherwise the missing ones are printed),
#   - the virtual environment .venv with the project installed in editable mode, with the camera
#     extra (QtMultimedia, for portraits), and the app's translations compiled (tools/translations.py),
#   - with --test: the test, packaging (PyInstaller, which needs binutils), dev (ruff, mypy,
#     import-linter, pre-commit) and postgres (psycopg) extras, poppler-utils (a printed PDF read
#     back), the PostgreSQL server the tests run a throw-away cluster of (Debian's postgresql), and
#     the Node.js interop test dependencies.
# Usage: tools/install.sh [--test] [--desktop]
#   --desktop  also the X11 libraries Qt needs to open a real window
# Environment: PYTHON (default python3) is the interpreter the venv is made from.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

with_test=false
with_desktop=false
for arg in "$@"; do
    case "$arg" in
        --test) with_test=true ;;
        --desktop) with_desktop=true ;;
        *) echo "usage: tools/install.sh [--test] [--desktop]" >&2; exit 2 ;;
    esac
done

python="${PYTHON:-python3}"
venv="$root/.venv"
interop="$root/tests/interop"

# Qt offscreen and fonts (docs: MACHINE-NOTES); the xcb set is what a real X11 window needs.
packages=(libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxkbcommon0 fonts-dejavu-core
    libpulse0)  # libpulse0: QtMultimedia, for the camera
if $with_desktop; then
    packages+=(libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
        libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0)
fi

log() { printf '== %s\n' "$*"; }

# An interpreter that can make the venv: 3.11 or newer, with venv and ensurepip (Debian: python3-venv).
python_ok() {
    "$1" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1
}

venv_ok() {
    [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_system_packages() {
    if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
        log "not a Debian-based system: skipping system packages (Qt needs OpenGL, EGL, fontconfig, D-Bus, xkbcommon)"
        return
    fi
    local wanted=("${packages[@]}") missing=() package
    if ! python_ok "$python"; then
        wanted+=(python3 python3-venv)
        python=python3
    fi
    if $with_test && ! command -v node >/dev/null; then
        wanted+=(nodejs npm)
    fi
    if $with_test; then
        wanted+=(binutils)  # objdump and strip, for the PyInstaller bundle test
        wanted+=(poppler-utils)  # pdftoppm and pdftotext: the printed take-away sheet is read back in a test
        wanted+=(postgresql)  # initdb and pg_ctl, for the tests marked postgres
    fi
    for package in "${wanted[@]}"; do
        installed "$package" || missing+=("$package")
    done
    if ((${#missing[@]} == 0)); then
        log "system packages: all present"
        return
    fi
    if [[ "$(id -u)" != 0 ]]; then
        log "system packages missing (not root, not installing): ${missing[*]}"
        echo "   install them with: sudo apt-get install --no-install-recommends ${missing[*]}"
        return
    fi
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q
    apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 install -y -q --no-install-recommends "${missing[@]}"
}

make_venv() {
    if venv_ok; then
        log "virtual environment: $venv (reused)"
        return
    fi
    if ! python_ok "$python"; then
        echo "error: $python is missing, older than 3.11, or lacks venv and ensurepip (Debian: python3-venv)" >&2
        exit 1
    fi
    log "virtual environment: $venv (new, $("$python" --version))"
    "$python" -m venv --clear "$venv"
}

install_project() {
    local target='.[camera]'
    if $with_test; then
        target='.[test,packaging,dev,postgres,camera]'
    fi
    log "pip install -e $target"
    "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off -e "$target"
}

install_interop() {
    if [[ ! -f "$interop/package-lock.json" ]]; then
        log "interop test dependencies: none (no tests/interop/package-lock.json)"
        return
    fi
    if ! command -v npm >/dev/null; then
        echo "error: npm is needed for tests/interop (Debian: apt-get install nodejs npm)" >&2
        exit 1
    fi
    local marker="$interop/node_modules/.package-lock.json"
    if [[ "${CI:-}" != true && "$marker" -nt "$interop/package-lock.json" ]]; then
        log "interop test dependencies: up to date"
        return
    fi
    log "npm ci --prefix tests/interop"
    npm ci --prefix "$interop" --no-audit --no-fund
}

install_system_packages
make_venv
install_project
log "translations: compiling resources/translations/app/*.ts"
"$venv/bin/python" tools/translations.py release
if $with_test; then
    install_interop
fi
