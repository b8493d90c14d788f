#!/usr/bin/env bash
# The whole test suite from nothing: set up, then `deno task test` (fmt --check, lint, check, unit + e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
DENO="$(bash scripts/setup.sh)"
export PATH="$(dirname "$DENO"):$PATH"
exec deno task test "$@"
