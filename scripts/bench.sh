#!/usr/bin/env bash
# Every benchmark, under Deno and under Bun, each printing its baseline from the same run.
#   bash scripts/bench.sh            # full runs (several minutes)
#   bash scripts/bench.sh --smoke    # a quick check that each still runs
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
export NO_COLOR=1
smoke=""
[ "${1:-}" = "--smoke" ] && smoke="--smoke"
status=0
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "deno $(deno --version | head -n 1 | cut -d' ' -f2), bun $(bun --version), $(nats-server --version 2>/dev/null || echo nats-server)"
for bench in bench/*_bench.ts; do
  echo
  echo "== $bench"
  if grep -q -- "--manual" "$bench"; then
    deno run -A "$bench" --manual $smoke || status=1 # the Deno.bench cases, timed by hand
  elif grep -q "Deno.bench" "$bench"; then
    WALNATS_BENCH_SMOKE=${smoke:+1} deno bench -A "$bench" || status=1
  else
    deno run -A "$bench" $smoke || status=1
  fi
  bun "$bench" $smoke || status=1
done
exit $status
