#!/usr/bin/env bash
# The whole suite: static checks, then every test under Deno AND under Bun.
# Usage: npm test            (or: bash scripts/test.sh [test files...])
#        npm run test:unit   (or: bash scripts/test.sh --unit): the fast tier,
#                            the files listed in tests/unit_tier.txt
#        --no-static first:  skip fmt, lint and type checks (a rerun)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
static=1
if [ "${1:-}" = "--no-static" ]; then
  static=0
  shift
fi
if [ "${1:-}" = "--unit" ]; then
  shift
  mapfile -t unit < <(grep -vE '^\s*(#|$)' tests/unit_tier.txt)
  set -- "${unit[@]}" "$@"
fi
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

if [ "$static" = 1 ]; then
  step "static checks"
  deno fmt --check || status=1
  deno lint || status=1
  deno check src/ tests/ bench/ scripts/ examples/ || status=1
  # src/core must stay runtime-neutral (web standards only).
  if grep -rnE '\bDeno\.|\bBun\.|from "node:|from "(bun|deno)' src/core; then
    echo "src/core imports a runtime API (see above)"; status=1
  fi
fi

# Both runtimes at once: much of the suite waits on timers, sockets and the
# broker, so running them side by side nearly halves the wall time. Each
# line shows as it comes, prefixed [deno] or [bun]; each runtime's result
# (its failures and counts) is printed again, whole, once both are done.
deno_out=$(mktemp)
bun_out=$(mktemp)
# Runs "$@", keeps its output in $2 and shows it prefixed with [$1].
prefixed() {
  local name=$1 out=$2
  shift 2
  { "$@" 2>&1; echo $? >"$out.rc"; } | tee "$out" | sed -u "s/^/[$name] /"
}
ran_ok() { [ "$(cat "$1.rc" 2>/dev/null)" = 0 ]; }
if [ ${#files[@]} -gt 0 ]; then
  step "tests under Deno and Bun, side by side"
  prefixed deno "$deno_out" deno test --allow-all "${files[@]}" &
  deno_pid=$!
  # A file may hold only scenarios another runner owns (tests/support/once.ts).
  prefixed bun "$bun_out" bun test --timeout 120000 --pass-with-no-tests \
    "${files[@]}" &
  bun_pid=$!
  wait "$deno_pid"
  wait "$bun_pid"
  ran_ok "$deno_out" || status=1
  ran_ok "$bun_out" || status=1
fi
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
step "result under Deno"
# Deno's closing block (its ERRORS/FAILURES sections and counts), or the counts.
block=$(strip "$deno_out" | sed -n '/^ *\(ERRORS\|FAILURES\) *$/,$p')
if [ -n "$block" ]; then echo "$block"; else
  strip "$deno_out" | grep -E '^(ok|FAILED) \|' | tail -1
fi
step "result under Bun"
# Bun reports each failure in place: its (fail) lines, then the counts.
strip "$bun_out" | grep -E '^\(fail\)'
strip "$bun_out" | sed -n '/^ *[0-9]\+ pass$/,$p'

# Serial files: one runtime after the other; their counts join the totals.
deno_serial=$(mktemp)
bun_serial=$(mktemp)
if [ ${#serial[@]} -gt 0 ]; then
  step "serial tests (the broker is restarted) under Deno"
  deno test --allow-all "${serial[@]}" 2>&1 | tee "$deno_serial"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  step "serial tests under Bun"
  bun test --timeout 120000 --pass-with-no-tests "${serial[@]/#/./}" 2>&1 |
    tee "$bun_serial"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
fi

# One summary line over both runtimes (Deno counts node:test cases as steps).
deno_counts() {
  local summary p f
  summary=$(strip "$1" | grep -E '^(ok|FAILED) \|' | tail -1)
  p=$(echo "$summary" | sed -nE 's/.*\| [0-9]+ passed \(([0-9]+) steps?\).*/\1/p')
  [ -n "$p" ] || p=$(echo "$summary" | sed -nE 's/.*\| ([0-9]+) passed.*/\1/p')
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
rm -f "$deno_out" "$bun_out" "$deno_out.rc" "$bun_out.rc" "$deno_serial" \
  "$bun_serial"
dp=$((dp + sdp)) df=$((df + sdf)) bp=$((bp + sbp)) bf=$((bf + sbf))
passed=$((dp + bp))
failed=$((df + bf))
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo
echo "deno: ${dp} passed, ${df} failed; bun: ${bp} passed, ${bf} failed"
echo "${passed} passed, ${failed} failed"
exit "$status"
