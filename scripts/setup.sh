#!/usr/bin/env bash
# Sets up everything dbxr's development needs, from nothing, into .tools/ (git-ignored):
#   - Deno 2.9.6 from the npm registry (a deno already on PATH at that version is used as is);
#   - the npm dependencies of deno.json, checked against the frozen deno.lock;
#   - a check that python3 with IPython is there, which the emulator's execution contexts need;
#   - the launchers .tools/bin/dbxr and .tools/bin/dbxr-emulator (+ .cmd/.ps1 for Windows): dbxr from source,
#     from any folder, with the release binary's permission flags (scripts/launchers.ts).
# Idempotent and quiet when all is in place. Prints the deno path as its only stdout line (scripts read it)
# and, last on stderr, how to put the launchers on PATH.
#
# Usage: scripts/setup.sh [--install [--prefix DIR]]
#   --install      also link dbxr and dbxr-emulator into DIR (default ~/.local/bin), a folder on your PATH
set -euo pipefail

INSTALL=""
PREFIX="${HOME:-}/.local/bin"
while [ $# -gt 0 ]; do
  case "$1" in
    --install) INSTALL=1 ;;
    --prefix)
      [ $# -ge 2 ] || { echo "setup: --prefix needs a folder" >&2; exit 2; }
      PREFIX="$2"
      shift
      ;;
    --prefix=*) PREFIX="${1#--prefix=}" ;;
    -h | --help)
      sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
      exit 0
      ;;
    *) echo "setup: unknown option $1 (usage: scripts/setup.sh [--install [--prefix DIR]])" >&2; exit 2 ;;
  esac
  shift
done
case "$PREFIX" in /*) ;; *) PREFIX="$PWD/$PREFIX" ;; esac # relative to where setup was called
cd "$(dirname "$0")/.."

DENO_VERSION="2.9.6"
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"

have_version() { "$1" --version 2>/dev/null | head -n1 | grep -q "^deno $DENO_VERSION "; }

if have_version "$TOOLS/bin/deno"; then
  :
elif command -v deno >/dev/null 2>&1 && have_version "$(command -v deno)"; then
  ln -sf "$(command -v deno)" "$TOOLS/bin/deno"
elif command -v npm >/dev/null 2>&1; then
  echo "setup: installing deno $DENO_VERSION from npm into .tools/ ..." >&2
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
  ln -sf "$TOOLS/node_modules/.bin/deno" "$TOOLS/bin/deno"
  have_version "$TOOLS/bin/deno" || { echo "setup: deno $DENO_VERSION did not install correctly" >&2; exit 1; }
elif command -v deno >/dev/null 2>&1; then
  echo "setup: warning: using $(deno --version | head -n1) from PATH; dbxr pins $DENO_VERSION" >&2
  ln -sf "$(command -v deno)" "$TOOLS/bin/deno"
else
  echo "setup: need either npm (to install deno $DENO_VERSION) or deno on PATH." >&2
  echo "       Install Node.js (https://nodejs.org) or Deno (https://deno.com), then run this again." >&2
  exit 1
fi
DENO="$TOOLS/bin/deno"

# Fetch the npm dependencies once, verified against deno.lock (frozen: a changed lock fails here).
"$DENO" install --frozen --entrypoint main.ts src/emulator/main.ts >/dev/null 2>&1 ||
  "$DENO" install --frozen --entrypoint main.ts src/emulator/main.ts >&2

# The emulator runs each execution context as a real python3 process with IPython (as Databricks does).
PY="${DBXR_EMULATOR_PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "setup: warning: $PY not found. The emulator needs python3 with IPython:" >&2
  echo "       apt-get install python3 python3-ipython   (or: pip install ipython)" >&2
elif ! "$PY" -c "import IPython" >/dev/null 2>&1; then
  echo "setup: warning: $PY has no IPython. The emulator's execution contexts need it:" >&2
  echo "       $PY -m pip install ipython   (or apt-get install python3-ipython and set DBXR_EMULATOR_PYTHON=/usr/bin/python3)" >&2
fi

# The launchers: written every time, so that they follow a moved repository or a new deno.
"$DENO" run --quiet --no-prompt --allow-read --allow-write="$TOOLS/bin" scripts/launchers.ts "$TOOLS/bin" "$DENO"

if [ -n "$INSTALL" ]; then
  mkdir -p "$PREFIX"
  PREFIX="$(cd "$PREFIX" && pwd)"
  for name in dbxr dbxr-emulator; do
    target="$PREFIX/$name"
    # A release binary (scripts/install.sh) or anything else that is not a link stays: say so instead.
    if [ -e "$target" ] && [ ! -L "$target" ]; then
      echo "setup: $target exists and is not a link; remove it first to use dbxr from source" >&2
      exit 1
    fi
    ln -sfn "$TOOLS/bin/$name" "$target"
  done
  case ":$PATH:" in
    *":$PREFIX:"*) echo "setup: dbxr and dbxr-emulator are linked into $PREFIX (on your PATH)" >&2 ;;
    *) echo "setup: linked into $PREFIX, which is not on PATH yet: export PATH=\"$PREFIX:\$PATH\"" >&2 ;;
  esac
else
  echo "setup: dbxr is in .tools/bin: export PATH=\"$TOOLS/bin:\$PATH\" (or: ./scripts/setup.sh --install)" >&2
fi
echo "$DENO"
