#!/usr/bin/env bash
# Build the standalone desktop app for this platform with PyInstaller (packaging/frontdesk.spec),
# run the bundle's self-test, and pack it:
#   Linux  DIST/frontdesk/ and DIST/FrontdeskIssuer-<version>-linux-<arch>.tar.gz (+ .sha256)
#   macOS  DIST/Frontdesk Issuer.app and DIST/FrontdeskIssuer-<version>-macos-<arch>.dmg
#          (packaging/macos/make-dmg.sh: signed and notarized when credentials are set)
# Windows builds run packaging/build.ps1. PyInstaller does not cross-build.
#
# Usage: packaging/build.sh [--dist DIR] [--work DIR] [--no-archive] [--no-self-test]
#   --dist DIR       where the bundle and the archive go (default dist/)
#   --work DIR       PyInstaller's build folder (default build/pyinstaller/)
#   --no-archive     the bundle only, no tarball or disk image
#   --no-self-test   do not run `frontdesk --self-test` from the bundle
# Environment: PYTHON (default .venv/bin/python), an interpreter with the project and its
# `packaging` extra installed (tools/install.sh --test, or pip install -e '.[packaging]').
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

dist="$root/dist"
work="$root/build/pyinstaller"
archive=true
self_test=true
while (($#)); do
    case "$1" in
        --dist) dist="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --no-archive) archive=false; shift ;;
        --no-self-test) self_test=false; shift ;;
        *) echo "usage: packaging/build.sh [--dist DIR] [--work DIR] [--no-archive] [--no-self-test]" >&2; exit 2 ;;
    esac
done
mkdir -p "$dist" "$work"
dist="$(cd "$dist" && pwd)"
work="$(cd "$work" && pwd)"

python="${PYTHON:-$root/.venv/bin/python}"
log() { printf '== %s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

if ! "$python" -c 'import PyInstaller' 2>/dev/null; then
    fail "PyInstaller is missing: run tools/install.sh --test, or $python -m pip install -e '.[packaging]'"
fi
case "$(uname -s)" in
    Linux) platform=linux ;;
    Darwin) platform=macos ;;
    *) fail "this script builds on Linux and macOS; on Windows run packaging/build.ps1" ;;
esac
if [[ $platform == linux ]]; then
    for tool in objdump strip ldd; do
        command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install binutils libc-bin)"
    done
fi

name="$("$python" packaging/appinfo.py name)"
version="$("$python" packaging/appinfo.py version)"
executable="$("$python" packaging/appinfo.py executable)"
arch="$(uname -m)"
package="FrontdeskIssuer-$version-$platform-$arch"

log "translations"
"$python" tools/translations.py release

log "PyInstaller: $name $version ($platform, $arch)"
started=$SECONDS
"$python" -m PyInstaller --noconfirm --log-level WARN --distpath "$dist" --workpath "$work" packaging/frontdesk.spec
log "PyInstaller done in $((SECONDS - started)) s"

# Libraries the build machine lacks are left out of the bundle: say so (a release build
# machine has everything tools/install.sh --desktop installs).
missing="$(grep -ho "could not resolve '[^']*'" "$work"/frontdesk/warn-*.txt 2>/dev/null | grep -v "libgtk-3\|libgdk-3" | sort -u || true)"
if [[ -n $missing ]]; then
    log "warning: not bundled, must be on the target system:"
    printf '   %s\n' "$missing"
fi

if [[ $platform == linux ]]; then
    bundle="$dist/$executable"
    program="$bundle/$executable"
else
    bundle="$dist/$name.app"
    program="$bundle/Contents/MacOS/$executable"
fi

if $self_test; then
    log "self-test of the bundle"
    QT_QPA_PLATFORM=offscreen "$program" --self-test || fail "the bundle's self-test failed"
fi

size_mb="$(du -sm "$bundle" | cut -f1)"
log "bundle: $bundle ($size_mb MiB unpacked)"

if ! $archive; then
    exit 0
fi

if [[ $platform == macos ]]; then
    bash packaging/macos/make-dmg.sh "$bundle" "$dist/$package.dmg"
    exit 0
fi

# Linux: the bundle, the menu entry, the per-user installer and a note, under one folder.
stage="$work/$package"
rm -rf "$stage"
cp -a "$bundle" "$stage"
categories="$("$python" packaging/appinfo.py linux_categories)"
summary="$("$python" packaging/appinfo.py summary)"
sed -e "s|@NAME@|$name|g" -e "s|@SUMMARY@|$summary|g" -e "s|@CATEGORIES@|$categories|g" \
    -e "s|@EXECUTABLE@|$executable|g" packaging/linux/frontdesk-issuer.desktop.in > "$stage/frontdesk-issuer.desktop"
install -m 755 packaging/linux/install.sh "$stage/install.sh"
# The newest glibc symbol version any bundled binary uses: the oldest system it runs on.
glibc="$(find "$stage" -type f \( -name '*.so*' -o -name "$executable" \) -exec objdump -T {} + 2>/dev/null |
    grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1 | cut -d_ -f2 || true)"
sed -e "s|@VERSION@|$version|g" -e "s|@ARCH@|$arch|g" -e "s|@GLIBC@|${glibc:-unknown}|g" \
    packaging/linux/README.txt > "$stage/README.txt"
tarball="$dist/$package.tar.gz"
log "packing $tarball"
tar -C "$work" --owner=0 --group=0 --numeric-owner -czf "$tarball" "$package"
rm -rf "$stage"
(cd "$dist" && sha256sum "$package.tar.gz" > "$package.tar.gz.sha256")
log "archive: $tarball ($(du -m "$tarball" | cut -f1) MiB)"
