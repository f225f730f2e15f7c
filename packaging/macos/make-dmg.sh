#!/usr/bin/env bash
# Makes dist/kapdesk-<version>.dmg from dist/kapdesk.app, on macOS, after
# `pyinstaller build_installer.spec` (or scripts/build-installer) has built the app.
# Steps and background: packaging/macos/README.md.
#
#   packaging/macos/make-dmg.sh
#
# Everything secret or machine-specific comes from the environment, never the repository:
#   KAPDESK_MACOS_IDENTITY      "Developer ID Application: <name> (<team id>)": sign the app
#                               and the disk image with it. Unset: left as built, with a
#                               warning (ad-hoc signatures break the keychain on upgrades).
#   KAPDESK_MACOS_ENTITLEMENTS  an entitlements plist for the hardened runtime (optional).
#   KAPDESK_NOTARY_PROFILE      a `xcrun notarytool store-credentials` profile: notarize
#                               the disk image with Apple and staple the ticket to it.
#   KAPDESK_VERSION             the version in the file name (default: kapdesk.__version__).
#   PYTHON                      the Python that reads kapdesk.__version__ (default: the
#                               repository's .venv, else python3).
set -euo pipefail

cd "$(dirname "$0")/../.."  # the repository root

BUNDLE_ID="org.kapdesk.kapdesk"  # must match build_installer.spec; must never change
app="dist/kapdesk.app"

die() {
    echo "make-dmg: $*" >&2
    exit 1
}

[[ "$(uname -s)" == "Darwin" ]] || die "runs on macOS only (it needs codesign and hdiutil)"
[[ -d "$app" ]] || die "$app is missing: run 'pyinstaller build_installer.spec' first"

# The bundle id is what the keychain's grant of the record's key is tied to.
bundle_id=$(/usr/libexec/PlistBuddy -c "Print :CFBundleIdentifier" "$app/Contents/Info.plist")
[[ "$bundle_id" == "$BUNDLE_ID" ]] ||
    die "$app has bundle id '$bundle_id', not '$BUNDLE_ID': fix build_installer.spec"

version="${KAPDESK_VERSION:-}"
if [[ -z "$version" ]]; then
    python="${PYTHON:-}"
    if [[ -z "$python" ]]; then
        if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
    fi
    version=$("$python" -c 'import kapdesk; print(kapdesk.__version__)')
fi
[[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+-]*$ ]] || die "not a version: '$version'"

identity="${KAPDESK_MACOS_IDENTITY:-}"
entitlements="${KAPDESK_MACOS_ENTITLEMENTS:-}"
notary_profile="${KAPDESK_NOTARY_PROFILE:-}"
[[ -z "$notary_profile" || -n "$identity" ]] ||
    die "KAPDESK_NOTARY_PROFILE is set but KAPDESK_MACOS_IDENTITY is not:" \
        "Apple notarizes only apps signed with a Developer ID"
[[ -z "$entitlements" || -f "$entitlements" ]] ||
    die "KAPDESK_MACOS_ENTITLEMENTS names a missing file: $entitlements"

# 1. Sign the app with the stable Developer ID, hardened runtime, secure timestamp.
if [[ -n "$identity" ]]; then
    echo "Signing $app as: $identity"
    sign_args=(--force --deep --options runtime --timestamp --sign "$identity")
    [[ -z "$entitlements" ]] || sign_args+=(--entitlements "$entitlements")
    codesign "${sign_args[@]}" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
else
    cat >&2 <<'WARNING'

  ************************************************************************************
  *  WARNING: KAPDESK_MACOS_IDENTITY is not set; kapdesk.app is NOT signed with a    *
  *  Developer ID (at most ad-hoc, as PyInstaller left it).                          *
  *                                                                                  *
  *  The record's key is kept in the macOS keychain, and the keychain grants it to   *
  *  the app's code signature. An ad-hoc signature changes with every build, so      *
  *  after an upgrade macOS asks for the login password on every start, or refuses   *
  *  the key altogether (jaraco/keyring issues #629 and #512); Gatekeeper also       *
  *  blocks the app on other Macs. Use this disk image for testing only, never for   *
  *  a clinic.                                                                       *
  ************************************************************************************

WARNING
fi

# 2. The disk image: the app and a link to /Applications to drag it onto.
dmg="dist/kapdesk-$version.dmg"
staging=$(mktemp -d "${TMPDIR:-/tmp}/kapdesk-dmg.XXXXXX")
trap 'rm -rf "$staging"' EXIT
ditto "$app" "$staging/kapdesk.app"  # keeps symlinks, extended attributes and signatures
ln -s /Applications "$staging/Applications"
hdiutil create -volname kapdesk -srcfolder "$staging" -ov -format UDZO "$dmg"

# 3. Sign the disk image, then notarize and staple it.
if [[ -n "$identity" ]]; then
    codesign --force --timestamp --sign "$identity" "$dmg"
    codesign --verify --verbose=2 "$dmg"
fi
if [[ -n "$notary_profile" ]]; then
    echo "Notarizing $dmg (this can take several minutes)..."
    xcrun notarytool submit "$dmg" --keychain-profile "$notary_profile" --wait
    # Fails when Apple did not accept the submission: there is no ticket to staple. The
    # reasons: xcrun notarytool log <submission id> --keychain-profile "$notary_profile"
    xcrun stapler staple "$dmg"
    xcrun stapler validate "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
fi

signed="NOT signed"
[[ -z "$identity" ]] || signed="signed"
notarized="not notarized"
[[ -z "$notary_profile" ]] || notarized="notarized and stapled"
echo "Built $dmg ($(du -h "$dmg" | cut -f1)): $signed, $notarized."
