#!/usr/bin/env bash
# The main job from nothing: set up, start the emulator, and drive a dbxr session against it.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO="$(bash scripts/setup.sh)"
export PATH="$(dirname "$DENO"):$PATH"
exec deno run --quiet -A scripts/demo.ts "$@" # not `deno task`: no "Task" line
