#!/usr/bin/env bash
# Time from a fresh clone to the first `dbxr exec` answer in a fresh folder, the way a new machine does it:
# a clone of the committed HEAD, empty Deno and npm caches, no deno on PATH. Needs the npm registry.
# Usage: scripts/bench/clone_to_exec.sh [--keep]
set -euo pipefail
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
tmp=$(mktemp -d /tmp/dbxr-clone-to-exec.XXXXXX)
clean_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.tools' -e '\.deno' | paste -sd: -)
export PATH="$tmp/bin:$clean_path" DENO_DIR="$tmp/deno-cache" npm_config_cache="$tmp/npm-cache" \
  XDG_CACHE_HOME="$tmp/xdg-cache"
now() { date +%s.%N; }
t0=$(now)
git clone -q "$top" "$tmp/repo"
t1=$(now)
"$tmp/repo/scripts/setup.sh" --install --prefix "$tmp/bin" >/dev/null 2>"$tmp/setup.log"
t2=$(now)
mkdir "$tmp/my-task" && cd "$tmp/my-task"
dbxr-emulator --env-file emulator.env >emulator.log 2>&1 &
until [ -f emulator.env ]; do sleep 0.05; done
. ./emulator.env
t3=$(now)
dbxr create --cluster-id "$(dbxr cluster find --name analytics --json | grep -o '"cluster_id": "[^"]*"' | cut -d'"' -f4)" \
  --session-name first >/dev/null
dbxr exec --tag first --command "print(1 + 1)" >exec.json
t4=$(now)
kill $!
grep -q '"status": "Finished"' exec.json || { cat exec.json; exit 1; }
f() { awk "BEGIN { printf \"%.1f\", $2 - $1 }"; }
echo "clone $(f "$t0" "$t1") s, setup $(f "$t1" "$t2") s (Deno + dependencies), emulator up $(f "$t2" "$t3") s," \
  "create + first exec $(f "$t3" "$t4") s: clone to first exec answer $(f "$t0" "$t4") s"
if [ "${1:-}" = "--keep" ]; then echo "kept: $tmp"; else rm -rf "$tmp"; fi
