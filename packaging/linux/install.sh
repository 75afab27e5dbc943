#!/bin/sh
# Install Frontdesk Issuer from this unpacked folder, for the current user (no root needed):
#   PREFIX/opt/frontdesk-issuer/                       the program (replaced on upgrade)
#   PREFIX/bin/frontdesk                               a link, to start it from a terminal
#   PREFIX/share/applications/frontdesk-issuer.desktop the menu entry
#   PREFIX/share/icons/hicolor/SIZE/apps/frontdesk-issuer.png
# PREFIX is ~/.local unless --prefix says otherwise (e.g. /usr/local, as root, for every user).
# The data folder (${XDG_DATA_HOME:-~/.local/share}/frontdesk-issuer) is never touched, except
# by --uninstall --purge-data.
#
# Usage: ./install.sh [--prefix DIR] [--uninstall [--purge-data]]
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
prefix="${HOME:?HOME is not set}/.local"
uninstall=false
purge_data=false
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
        --uninstall) uninstall=true; shift ;;
        --purge-data) purge_data=true; shift ;;
        *) echo "usage: ./install.sh [--prefix DIR] [--uninstall [--purge-data]]" >&2; exit 2 ;;
    esac
done

app_id=frontdesk-issuer
executable=frontdesk
target="$prefix/opt/$app_id"
link="$prefix/bin/$executable"
desktop="$prefix/share/applications/$app_id.desktop"
icons="$prefix/share/icons/hicolor"
data="${XDG_DATA_HOME:-$HOME/.local/share}/$app_id"

refresh_menus() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$prefix/share/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
    fi
}

if $uninstall; then
    rm -rf "$target"
    if [ -L "$link" ]; then rm -f "$link"; fi
    rm -f "$desktop" "$icons"/*/apps/"$app_id".png "$icons"/scalable/apps/"$app_id".svg
    refresh_menus
    echo "removed the program from $target"
    if $purge_data; then
        rm -rf "$data"
        echo "removed the data folder $data"
    elif [ -d "$data" ]; then
        echo "kept the data folder $data (./install.sh --uninstall --purge-data deletes it)"
    fi
    exit 0
fi

if [ ! -x "$here/$executable" ] || [ ! -d "$here/_internal" ]; then
    echo "error: run install.sh from the unpacked Frontdesk Issuer folder" >&2
    exit 1
fi

# Copy next to the old version, then swap: an interrupted upgrade leaves the old one working.
mkdir -p "$prefix/opt"
rm -rf "$target.new" "$target.old"
mkdir "$target.new"
cp -R "$here/$executable" "$here/_internal" "$target.new/"
if [ -d "$target" ]; then mv "$target" "$target.old"; fi
mv "$target.new" "$target"
rm -rf "$target.old"

mkdir -p "$prefix/bin" "$(dirname "$desktop")"
ln -sfn "$target/$executable" "$link"
sed "s|^Exec=.*|Exec=\"$target/$executable\"|" "$here/$app_id.desktop" > "$desktop"
for png in "$target"/_internal/resources/icons/"$app_id"-*.png; do
    size="${png##*-}"
    size="${size%.png}"
    mkdir -p "$icons/${size}x$size/apps"
    cp "$png" "$icons/${size}x$size/apps/$app_id.png"
done
mkdir -p "$icons/scalable/apps"
cp "$target/_internal/resources/icons/$app_id.svg" "$icons/scalable/apps/$app_id.svg"
refresh_menus
echo "installed $target"
echo "start it from the applications menu, or run: $link"

# Debian and Ubuntu: the system libraries the bundle expects to find.
if command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for package in libgl1 libegl1 fontconfig fonts-dejavu-core; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing="$missing $package"
        fi
    done
    if [ -n "$missing" ]; then
        echo "missing system packages; install them with: sudo apt-get install$missing"
    fi
fi
