#!/usr/bin/env bash
# Pack a built .app into a .dmg; sign and notarize when the credentials are there.
# packaging/build.sh runs it on macOS after PyInstaller.
#
# Usage: packaging/macos/make-dmg.sh "dist/Frontdesk Issuer.app" dist/FrontdeskIssuer-<version>-macos-<arch>.dmg
# Environment (optional; without them the .app is ad-hoc signed and the .dmg unsigned, which
# runs on the build Mac and, after right-click > Open, on others):
#   MACOS_SIGN_IDENTITY   a "Developer ID Application: NAME (TEAMID)" identity in the keychain;
#                         the spec already signed the .app and every binary in it with it
#                         (hardened runtime, packaging/macos/entitlements.plist); this signs the .dmg
#   MACOS_NOTARY_PROFILE  a notarytool keychain profile, made once with
#                         xcrun notarytool store-credentials PROFILE --apple-id ID --team-id TEAMID
#                         (an app-specific password); the .dmg is then notarized and stapled
set -euo pipefail

app="${1:?usage: make-dmg.sh APP DMG}"
dmg="${2:?usage: make-dmg.sh APP DMG}"
identity="${MACOS_SIGN_IDENTITY:-}"
profile="${MACOS_NOTARY_PROFILE:-}"
log() { printf '== %s\n' "$*"; }

[[ -d $app ]] || { echo "error: $app is not a folder" >&2; exit 1; }
name="$(basename "$app" .app)"

if [[ -n $identity ]]; then
    log "checking the signature of $app"
    codesign --verify --deep --strict --verbose=2 "$app"
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
log "creating $dmg"
hdiutil create -volname "$name" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"

if [[ -z $identity ]]; then
    log "MACOS_SIGN_IDENTITY is not set: the disk image is not signed or notarized"
    exit 0
fi
log "signing $dmg"
codesign --sign "$identity" --timestamp "$dmg"
if [[ -z $profile ]]; then
    log "MACOS_NOTARY_PROFILE is not set: the disk image is signed, not notarized"
    exit 0
fi
log "notarizing $dmg (waits for Apple's answer)"
xcrun notarytool submit "$dmg" --keychain-profile "$profile" --wait
xcrun stapler staple "$dmg"
spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
log "notarized and stapled: $dmg"
