#!/usr/bin/env bash
# Smoke test of a dbxr build on the machine it runs on: `dbxr --version` names the expected version,
# `dbxr-emulator` starts, `dbxr doctor` passes against it, and a REPL session is created, runs one step and is
# destroyed. Used by .github/workflows/release.yml on every Linux binary the runner can execute, and by
# tests/e2e/release_smoke_test.ts against stand-ins that run the sources under the binaries' flags.
#
#   scripts/release/smoke.sh DBXR DBXR_EMULATOR EXPECTED_VERSION
#
# Needs python3 with IPython (the emulator's execution contexts). Exits non-zero at the first failure.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: $0 DBXR DBXR_EMULATOR EXPECTED_VERSION" >&2
  exit 2
fi
DBXR="$1"
EMULATOR="$2"
EXPECTED="${3#v}"

work="$(mktemp -d)"
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAILED: $*" >&2
  exit 1
}
step() { echo "smoke: $*" >&2; }

# 1. The version.
version_out="$("$DBXR" --version)" || fail "dbxr --version exited $?"
case "$version_out" in
  *"$EXPECTED"*) step "dbxr --version: $version_out" ;;
  *) fail "dbxr --version printed '$version_out', expected it to name $EXPECTED" ;;
esac

# 2. The emulator, on a free loopback port; its first stdout line is {"host": ..., "token": ...}.
"$EMULATOR" --time-scale 50 >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/emulator.out" ] && break
  kill -0 "$emu_pid" 2>/dev/null || fail "dbxr-emulator exited: $(cat "$work/emulator.err")"
  sleep 0.1
done
line="$(head -n1 "$work/emulator.out")"
host="$(printf '%s' "$line" | sed -n 's/.*"host": *"\([^"]*\)".*/\1/p')"
token="$(printf '%s' "$line" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')"
[ -n "$host" ] && [ -n "$token" ] || fail "dbxr-emulator printed no host and token: $line"
step "dbxr-emulator: $host"

# dbxr sees only the emulator: a private HOME (no ~/.databrickscfg), its host and token.
mkdir -p "$work/home" "$work/project"
export HOME="$work/home" DATABRICKS_HOST="$host" DATABRICKS_TOKEN="$token" NO_COLOR=1
unset DATABRICKS_CONFIG_PROFILE DATABRICKS_CONFIG_FILE DATABRICKS_AUTH_TYPE DATABRICKS_CLIENT_ID \
  DATABRICKS_CLIENT_SECRET DBXR_OUTPUT

run() {
  local out rc=0
  out="$("$DBXR" "$@" 2>"$work/stderr")" || rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "dbxr $* exited $rc: $out $(cat "$work/stderr")"
  fi
  printf '%s' "$out"
}

# 3. doctor.
doctor="$(run doctor --json)"
case "$doctor" in
  *'"status": "ok"'* | *'"status":"ok"'*) step "dbxr doctor: ok" ;;
  *) fail "dbxr doctor did not report ok: $doctor" ;;
esac

# 4. create, exec, destroy in a project folder.
found="$(run find-cluster --name analytics --json)"
cluster="$(printf '%s' "$found" | sed -n 's/.*"cluster_id": *"\([^"]*\)".*/\1/p' | head -n1)"
[ -n "$cluster" ] || fail "find-cluster gave no cluster_id: $found"
run create --cluster-id "$cluster" --session-name smoke --project-dir "$work/project" >/dev/null
run exec --project-dir "$work/project" --tag answer --command 'print(6 * 7)' >/dev/null
answer="$(cat "$work/project/repl_outputs/001_answer.stdout")"
[ "$answer" = "42" ] || fail "exec printed '$answer', expected 42"
step "dbxr create + exec: 6 * 7 = $answer"
run destroy --project-dir "$work/project" >/dev/null
step "dbxr destroy: ok"
echo "smoke: passed ($DBXR, version $EXPECTED)"
