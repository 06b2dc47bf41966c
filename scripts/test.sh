#!/usr/bin/env bash
# The whole suite: static checks, then every test under Deno AND under Bun.
# Usage: npm test            (or: bash scripts/test.sh [test files...])
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
# *.serial.ts files take the shared broker away (stop_app/start_app), so
# they run alone after both suites; the runners do not pick them up.
files=()
serial=()
for f in "$@"; do
  case "$f" in *.serial.ts) serial+=("$f") ;; *) files+=("$f") ;; esac
done
if [ $# -eq 0 ]; then
  files=(tests/)
  serial=(tests/serial/*.serial.ts)
fi

status=0
step() { echo; echo "== $*"; }

step "static checks"
deno fmt --check || status=1
deno lint || status=1
deno check src/ tests/ bench/ scripts/ || status=1
# src/core must stay runtime-neutral (web standards only).
if grep -rnE '\bDeno\.|\bBun\.|from "node:|from "(bun|deno)' src/core; then
  echo "src/core imports a runtime API (see above)"; status=1
fi

# Both runtimes at once: much of the suite waits on timers, sockets and the
# broker, so running them side by side nearly halves the wall time. Each
# one's output is printed whole when both are done.
deno_out=$(mktemp)
bun_out=$(mktemp)
if [ ${#files[@]} -gt 0 ]; then
  deno test --allow-all "${files[@]}" >"$deno_out" 2>&1 &
  deno_pid=$!
  bun test --timeout 120000 "${files[@]}" >"$bun_out" 2>&1 &
  bun_pid=$!
  wait "$deno_pid" || status=1
  wait "$bun_pid" || status=1
fi
step "tests under Deno"
cat "$deno_out"
step "tests under Bun"
cat "$bun_out"

# Serial files: one runtime after the other; their counts join the totals.
deno_serial=$(mktemp)
bun_serial=$(mktemp)
if [ ${#serial[@]} -gt 0 ]; then
  step "serial tests (the broker is restarted) under Deno"
  deno test --allow-all "${serial[@]}" 2>&1 | tee "$deno_serial"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  step "serial tests under Bun"
  bun test --timeout 120000 "${serial[@]/#/./}" 2>&1 | tee "$bun_serial"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# One summary line over both runtimes (Deno counts node:test cases as steps).
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
deno_counts() {
  local summary p f
  summary=$(strip "$1" | grep -E '^(ok|FAILED) \|' | tail -1)
  p=$(echo "$summary" | sed -nE 's/.*\| [0-9]+ passed \(([0-9]+) steps?\).*/\1/p')
  f=$(echo "$summary" | sed -nE 's/.*\| [0-9]+ failed \(([0-9]+) steps?\).*/\1/p')
  [ -n "$f" ] || f=$(echo "$summary" | sed -nE 's/.*\| ([0-9]+) failed.*/\1/p')
  echo "${p:-0} ${f:-0}"
}
bun_counts() {
  local p f
  p=$(strip "$1" | sed -nE 's/^ *([0-9]+) pass$/\1/p' | tail -1)
  f=$(strip "$1" | sed -nE 's/^ *([0-9]+) fail$/\1/p' | tail -1)
  echo "${p:-0} ${f:-0}"
}
read -r dp df < <(deno_counts "$deno_out")
read -r sdp sdf < <(deno_counts "$deno_serial")
read -r bp bf < <(bun_counts "$bun_out")
read -r sbp sbf < <(bun_counts "$bun_serial")
rm -f "$deno_out" "$bun_out" "$deno_serial" "$bun_serial"
dp=$((dp + sdp)) df=$((df + sdf)) bp=$((bp + sbp)) bf=$((bf + sbf))
passed=$((dp + bp))
failed=$((df + bf))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo
echo "deno: ${dp} passed, ${df} failed; bun: ${bp} passed, ${bf} failed"
echo "${passed} passed, ${failed} failed"
exit "$status"
