#!/usr/bin/env bash
# The whole suite: static checks, then every test under Deno AND under Bun.
# Usage: npm test            (or: bash scripts/test.sh [test files...])
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/)

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
deno test --allow-all "${files[@]}" >"$deno_out" 2>&1 &
deno_pid=$!
bun test --timeout 120000 "${files[@]}" >"$bun_out" 2>&1 &
bun_pid=$!
wait "$deno_pid" || status=1
wait "$bun_pid" || status=1
step "tests under Deno"
cat "$deno_out"
step "tests under Bun"
cat "$bun_out"

# One summary line over both runtimes (Deno counts node:test cases as steps).
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
deno_summary=$(strip "$deno_out" | grep -E '^(ok|FAILED) \|' | tail -1)
dp=$(echo "$deno_summary" | sed -nE 's/.*\| [0-9]+ passed \(([0-9]+) steps?\).*/\1/p')
df=$(echo "$deno_summary" | sed -nE 's/.*\| [0-9]+ failed \(([0-9]+) steps?\).*/\1/p')
[ -n "$df" ] || df=$(echo "$deno_summary" | sed -nE 's/.*\| ([0-9]+) failed.*/\1/p')
bp=$(strip "$bun_out" | sed -nE 's/^ *([0-9]+) pass$/\1/p' | tail -1)
bf=$(strip "$bun_out" | sed -nE 's/^ *([0-9]+) fail$/\1/p' | tail -1)
rm -f "$deno_out" "$bun_out"
passed=$(( ${dp:-0} + ${bp:-0} ))
failed=$(( ${df:-0} + ${bf:-0} ))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo
echo "deno: ${dp:-0} passed, ${df:-?} failed; bun: ${bp:-0} passed, ${bf:-?} failed"
echo "${passed} passed, ${failed} failed"
exit "$status"
