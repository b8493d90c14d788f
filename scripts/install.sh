#!/bin/sh
# Installs the dbxr release binary for this machine:
#
#   curl -fsSL https://github.com/OWNER/REPO/releases/latest/download/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --version v0.2.0 --emulator --prefix /usr/local/bin
#
# Detects the OS and CPU, downloads dbxr-<target> and SHA256SUMS from the release, checks the binary against
# SHA256SUMS and installs it into ~/.local/bin (or --prefix). A checksum that does not match installs nothing.
#
# Options:
#   --version vX.Y.Z   that release (default: the latest)
#   --prefix DIR       install into DIR (default: ~/.local/bin)
#   --emulator         also install dbxr-emulator (the local fake Databricks workspace)
#   --target TRIPLE    skip detection (x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
#                      x86_64-apple-darwin, aarch64-apple-darwin)
# Environment:
#   DBXR_INSTALL_BASE_URL  the releases URL to download from, for mirrors and tests: files are fetched from
#                          $DBXR_INSTALL_BASE_URL/latest/download/FILE or .../download/vX.Y.Z/FILE
#                          (default: https://github.com/$DBXR_REPO/releases)
#   DBXR_REPO              owner/name of the GitHub repository (the release's own copy of this script has it)
#
# POSIX sh; needs curl or wget, and sha256sum or shasum.
set -eu

# Set by the release workflow in the copy attached to each release.
DEFAULT_REPO=""

me="install.sh"
say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

usage() {
  cat >&2 <<'EOF'
usage: install.sh [--version vX.Y.Z] [--prefix DIR] [--emulator] [--target TRIPLE]
  --version vX.Y.Z   that release (default: the latest)
  --prefix DIR       install into DIR (default: ~/.local/bin)
  --emulator         also install dbxr-emulator (the local fake Databricks workspace)
  --target TRIPLE    skip detection: x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
                     x86_64-apple-darwin, aarch64-apple-darwin
Environment: DBXR_INSTALL_BASE_URL (a mirror of the releases URL), DBXR_REPO (owner/name on GitHub).
EOF
}

version=""
prefix="${HOME:-}/.local/bin"
emulator=0
target=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --version)
      [ "$#" -ge 2 ] || die "--version needs a value (e.g. --version v0.2.0)"
      version="$2"
      shift 2
      ;;
    --version=*) version="${1#*=}"; shift ;;
    --prefix)
      [ "$#" -ge 2 ] || die "--prefix needs a directory"
      prefix="$2"
      shift 2
      ;;
    --prefix=*) prefix="${1#*=}"; shift ;;
    --emulator) emulator=1; shift ;;
    --target)
      [ "$#" -ge 2 ] || die "--target needs a value"
      target="$2"
      shift 2
      ;;
    --target=*) target="${1#*=}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
[ -n "$prefix" ] && [ "$prefix" != "/.local/bin" ] || die "HOME is not set; give --prefix DIR"
case "$version" in
  "" | v*) ;;
  *) version="v$version" ;;
esac

# --- where from -------------------------------------------------------------------------------------------
repo="${DBXR_REPO:-$DEFAULT_REPO}"
base="${DBXR_INSTALL_BASE_URL:-}"
if [ -z "$base" ]; then
  [ -n "$repo" ] || die "no repository to download from: set DBXR_REPO=owner/name (or DBXR_INSTALL_BASE_URL)"
  base="https://github.com/$repo/releases"
fi
base="${base%/}"
if [ -n "$version" ]; then
  url="$base/download/$version"
else
  url="$base/latest/download"
fi

# --- which binary -----------------------------------------------------------------------------------------
if [ -z "$target" ]; then
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64 | amd64) arch="x86_64" ;;
    aarch64 | arm64) arch="aarch64" ;;
    *) die "no dbxr build for the CPU '$arch' (builds: x86_64, aarch64)" ;;
  esac
  case "$os" in
    Linux)
      if ldd --version 2>&1 | grep -qi musl; then
        die "this Linux uses musl libc; dbxr's Linux builds need glibc (build from source with deno compile)"
      fi
      target="$arch-unknown-linux-gnu"
      ;;
    Darwin)
      # A shell under Rosetta reports x86_64 on Apple silicon; the native build is the one to install.
      if [ "$arch" = "x86_64" ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || echo 0)" = "1" ]; then
        arch="aarch64"
      fi
      target="$arch-apple-darwin"
      ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT)
      die "on Windows use install.ps1: irm <release URL>/install.ps1 | iex"
      ;;
    *) die "no dbxr build for the OS '$os' (builds: Linux, macOS, Windows)" ;;
  esac
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "need curl or wget to download"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | awk '{print $1}'; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | awk '{print $1}'; }
else
  die "need sha256sum or shasum to verify the download; nothing was installed"
fi

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t dbxr-install)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

names="dbxr"
[ "$emulator" = 1 ] && names="dbxr dbxr-emulator"

say "release: $url (${version:-latest}), target $target"
fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS" || die "cannot download $url/SHA256SUMS"

# Download and verify everything first, so a bad file leaves whatever was installed before untouched.
for name in $names; do
  asset="$name-$target"
  fetch "$url/$asset" "$tmp/$asset" || die "cannot download $url/$asset"
  expected="$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS")"
  [ -n "$expected" ] || die "SHA256SUMS has no line for $asset; nothing was installed"
  actual="$(sha256 "$tmp/$asset")"
  if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; nothing was installed"
  fi
  say "verified $asset ($actual)"
done

mkdir -p "$prefix" || die "cannot create $prefix"
for name in $names; do
  # A copy beside the target, then a rename: a running dbxr is never overwritten in place.
  cp "$tmp/$name-$target" "$prefix/.$name.install.$$" || die "cannot write to $prefix"
  chmod 755 "$prefix/.$name.install.$$"
  mv -f "$prefix/.$name.install.$$" "$prefix/$name" || die "cannot install $prefix/$name"
  say "installed $prefix/$name"
done

case ":${PATH:-}:" in
  *":$prefix:"*) ;;
  *) say "$prefix is not on PATH; add it: export PATH=\"$prefix:\$PATH\"" ;;
esac
"$prefix/dbxr" --version >&2 || true
