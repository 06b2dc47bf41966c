#!/usr/bin/env bash
# One binary with `deno compile`: npm run compile [-- OUTPUT] (default dist/hypha).
# deno compile downloads Deno's runtime for the target (denort, from
# dl.deno.land) unless DENORT_BIN names one, so it needs network; and it
# deletes the file at --output before that download (Deno 2.9), which took
# the binary `npm run compile:bun` had built. So it writes beside the
# output and moves the result in only when it worked.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist/hypha}"
mkdir -p "$(dirname "$out")"
part="$out.part-$$"
# --include: the delivery threads' Worker entry (`[service] workers`), which
# no static import reaches; --unstable-net: their shared port (Deno 2.9).
if ./node_modules/deno/deno compile --quiet --allow-net --allow-read \
  --allow-env --allow-sys --unstable-net \
  --include src/workers/deno_thread.ts --output "$part" src/deno.ts; then
  mv -f "$part" "$out"
  echo "compiled $out with deno compile"
  exit 0
fi
rm -f "$part"
cat >&2 <<MSG
hypha: deno compile failed (see above); $out was left as it was.
deno compile downloads Deno's runtime (denort) from dl.deno.land, so it needs
network, or DENORT_BIN set to a denort binary of the same Deno version.
Offline, build the binary with Bun instead: npm run compile:bun
MSG
exit 1
