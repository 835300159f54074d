#!/usr/bin/env bash
# The whole test suite: checks (fmt, lint, type check, doc lint, the npm package from outside),
# then the test files under Deno and Bun against real nats-servers of several releases (the server
# matrix, below), and under Node.js (built with tsc) on the current release.
# Installs what it needs on first run. The last line is "N passed, N failed", summed over every
# leg (failed checks count as failed). Arguments go to `deno test` (e.g. --filter NAME).
#
# Server matrix (Debian's nats-server packages, cached by scripts/_servers.sh):
#   current (sid, 2.15.x): every test file, Deno and Bun
#   2.9     (bookworm):    every test file, Deno and Bun
#   2.10    (trixie):      the server-facing files (SERVER_FACING below), Deno and Bun
# Measured on the 2-core machine (shared with other work), 2026-12-03: 1102 s in all: checks 180 s;
# current Deno 226 s, Bun 117 s; 2.9 Deno 238 s, Bun 124 s; 2.10 (server-facing) Deno 119 s,
# Bun 95 s. Well within 30 min, so every leg runs under both runtimes.
# WALNATS_TEST_SERVERS="current" (any of: current 2.9 2.10) runs fewer legs; NATS_SERVER_BIN
# runs one leg per runtime on that binary instead of the matrix. WALNATS_SKIP_CHECKS=1 runs the
# test files only (a local shortcut; CI runs everything).
set -uo pipefail
cd "$(dirname "$0")/.."
WALNATS_SERVER_MATRIX=1
export WALNATS_NEEDS_BROWSER="${WALNATS_NEEDS_BROWSER:-1}"
source scripts/_setup.sh
export NO_COLOR=1

passed=0
failed=0
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
# CI shows only the end of this script's output, so every failure is also written here (a line
# naming it in names.txt, its details in details.txt) and both are printed again at the end.
recap_names="$log_dir/names.txt"
recap_details="$log_dir/details.txt"
: >"$recap_names"
: >"$recap_details"
# recap LEG: stdin (a failure's details) goes to the screen and into the recap, under LEG.
recap() {
  { echo "-- $1"; cat; } | tee -a "$recap_details" | tail -n +2
}

check() {
  local name=$1
  shift
  if "$@" >"$log_dir/check.log" 2>&1; then
    echo "check ok: $name"
  else
    echo "check FAILED: $name"
    echo "check: $name" >>"$recap_names"
    tail -n 60 "$log_dir/check.log" | recap "check $name"
    failed=$((failed + 1))
  fi
}

started_at=$SECONDS
# Every process started from here carries this mark in its environment: the leak check below
# judges only nats-servers that have it (others on the machine are not ours).
export WALNATS_TEST_RUN="$$-$(date +%s%N)"

if [ "${WALNATS_SKIP_CHECKS:-0}" != 1 ]; then
  check "deno fmt --check" deno fmt --check
  check "deno lint" deno lint
  check "deno check" deno check mod.ts testing.ts otel.ts prometheus.ts cli.ts admin.ts lint/ src/ tests/ examples/ bench/
  check "JSDoc examples type-check" deno check --doc mod.ts testing.ts otel.ts prometheus.ts cli.ts admin.ts \
    lint/plugin.ts $(find src -name '*.ts' | sort)
  check "every export has an @example" deno run -A scripts/doc_examples.ts
  check "no import cycles under src/" deno run -A scripts/import_cycles.ts
  check "deno publish --dry-run" deno publish --dry-run --allow-dirty
  check "deno doc --lint" deno doc --lint mod.ts testing.ts otel.ts prometheus.ts cli.ts admin.ts lint/plugin.ts
  check "demo under Deno" timeout 120 env -u NATS_URL bash scripts/demo.sh deno
  check "demo under Bun" timeout 120 env -u NATS_URL bash scripts/demo.sh bun
  check "examples under Deno and Bun" timeout 600 env -u NATS_URL bash scripts/examples.sh
  check "npm package from outside: npm pack, then Node, Bun and Deno projects" \
    timeout 900 env -u NATS_URL bash scripts/pack_check.sh
  # Benchmarks are not timed tests: CI only checks that each still runs (--smoke), in both runtimes.
  for bench in bench/*_bench.ts; do
    if grep -q "Deno.bench" "$bench"; then
      check "$bench smoke under deno bench" timeout 300 env WALNATS_BENCH_SMOKE=1 deno bench -A "$bench"
    else
      check "$bench --smoke under Deno" timeout 300 deno run -A "$bench" --smoke
    fi
    check "$bench --smoke under Bun" timeout 300 bun "$bench" --smoke
  done
  echo "== checks took $((SECONDS - started_at)) s"
fi

all_files=$(find tests -name '*_test.ts' | sort)
# Server-facing: the files whose tests depend on what the server does (streams, consumers, the
# Python wire, delivery, restarts, clusters). The rest (serializers, middlewares, lint, services, workers,
# decorators, docs) use a server as plumbing at most.
SERVER_FACING=$(ls tests/events/*_test.ts tests/reliability/*_test.ts tests/interop/*_test.ts \
  tests/actors/{actors,consumer,dead_letter,delivery}_test.ts tests/testing_test.ts \
  tests/clock_test.ts 2>/dev/null | sort)
filter=("$@")

# run_deno LABEL FILES...: deno test, its summary added to the totals.
run_deno() {
  local label=$1 log
  shift
  log="$log_dir/deno-${label//[^a-z0-9.]/_}.log"
  timeout 1500 deno test -A "${filter[@]}" "$@" 2>&1 | tee "$log" |
    grep -E "^(.* \.\.\. (ok|FAILED)|running|ok \||FAILED \||error)"
  local rc=${PIPESTATUS[0]} summary p f
  summary=$(grep -E "^(ok|FAILED) \| [0-9]+ passed" "$log" | tail -n 1)
  if [ -n "$summary" ]; then
    p=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')
    f=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
  else
    echo "deno test ($label) ended without a summary (exit $rc):"
    echo "deno $label: no summary (exit $rc)" >>"$recap_names"
    tail -n 60 "$log" | recap "deno $label"
    failed=$((failed + 1))
  fi
  grep -E "^.* \.\.\. FAILED" "$log" | sed "s/^/deno $label: /" >>"$recap_names"
  if [ "$rc" != 0 ]; then grep -A 30 -E "^ *ERRORS|^error:" "$log" | head -n 120 | recap "deno $label"; fi
}

# run_bun LABEL FILES...: bun test, its counts added to the totals.
run_bun() {
  local label=$1 log
  shift
  log="$log_dir/bun-${label//[^a-z0-9.]/_}.log"
  timeout 1500 bun test --timeout 120000 "$@" 2>&1 | tee "$log" |
    grep -E "^\((pass|fail)\)|^ *[0-9]+ (pass|fail)$|error:"
  local rc=${PIPESTATUS[0]} p f
  p=$(grep -E "^ *[0-9]+ pass$" "$log" | tail -n 1 | tr -dc 0-9)
  f=$(grep -E "^ *[0-9]+ fail$" "$log" | tail -n 1 | tr -dc 0-9)
  if [ -n "$p" ]; then
    passed=$((passed + p))
    failed=$((failed + ${f:-0}))
    if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then failed=$((failed + 1)); fi
  else
    echo "bun test ($label) ended without a summary (exit $rc):"
    echo "bun $label: no summary (exit $rc)" >>"$recap_names"
    tail -n 60 "$log" | recap "bun $label"
    failed=$((failed + 1))
  fi
  # Bun prints a failure's error just before its "(fail)" line.
  grep -E "^\(fail\)" "$log" | sed "s/^/bun $label: /" >>"$recap_names"
  if [ "$rc" != 0 ]; then grep -B 25 "^(fail)" "$log" | head -n 200 | recap "bun $label"; fi
}

# run_suite RUNTIME SERVER FILES...: one leg of the matrix. SERVER is a cached release
# ("current", "2.9", "2.10", or exact) or "bin" for NATS_SERVER_BIN.
run_suite() {
  local runtime=$1 server=$2 started=$SECONDS
  shift 2
  echo "== $runtime test on nats-server $server ($# files)"
  if [ "$server" = bin ]; then
    export -n WALNATS_NATS_SERVER_VERSION 2>/dev/null
  else
    export WALNATS_NATS_SERVER_VERSION=$server
  fi
  case "$runtime" in
    deno) run_deno "$runtime-$server" "$@" ;;
    bun) run_bun "$runtime-$server" "$@" ;;
    *)
      echo "unknown runtime $runtime"
      failed=$((failed + 1))
      ;;
  esac
  echo "== $runtime on nats-server $server took $((SECONDS - started)) s"
}

if [ -n "${NATS_SERVER_BIN:-}" ]; then
  echo "NATS_SERVER_BIN=$NATS_SERVER_BIN: testing on that binary only, not the server matrix"
  run_suite deno bin $all_files
  run_suite bun bin $all_files
else
  for server in ${WALNATS_TEST_SERVERS:-current 2.9 2.10}; do
    case "$server" in
      2.10) files=$SERVER_FACING ;;
      *) files=$all_files ;;
    esac
    run_suite deno "$server" $files
    run_suite bun "$server" $files
  done
fi

# Node.js: the tests built with tsc (scripts/test_node.sh), summed like the others.
echo "== node --test"
node_started=$SECONDS
if [ -z "${NATS_SERVER_BIN:-}" ]; then export WALNATS_NATS_SERVER_VERSION=current; fi
timeout 1800 bash scripts/test_node.sh 2>&1 | tee "$log_dir/node.log" |
  grep -E "^(not ok|node:)"
summary=$(grep -E "^node: [0-9]+ passed, [0-9]+ failed$" "$log_dir/node.log" | tail -n 1)
if [ -n "$summary" ]; then
  passed=$((passed + $(echo "$summary" | sed -E 's/^node: ([0-9]+) passed.*/\1/')))
  node_failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failed$/\1/')
  failed=$((failed + node_failed))
  # test_node.sh prints each failure's TAP details (the assertion, expected and actual).
  grep -E "^ *not ok" "$log_dir/node.log" | sed "s/^ */node: /" >>"$recap_names"
  if [ "$node_failed" != 0 ]; then
    grep -v -E "^(# |ok )" "$log_dir/node.log" | grep -A 30 -E "^ *not ok" | head -n 200 | recap node
  fi
else
  echo "node --test ended without a summary:"
  echo "node: no summary" >>"$recap_names"
  tail -n 60 "$log_dir/node.log" | recap node
  failed=$((failed + 1))
fi
echo "== node took $((SECONDS - node_started)) s"

# Anything the suites started must be gone (zombies awaiting their reaper are not running).
# The harness's watchdogs poll their parent every second.
sleep 3
leaked=""
for pid in $(pgrep -x nats-server); do
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "WALNATS_TEST_RUN=$WALNATS_TEST_RUN" ||
    continue
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ] && leaked="$leaked $pid"
done
if [ -n "$leaked" ]; then
  echo "check FAILED: nats-server processes left behind by the tests:$leaked (killing them)"
  echo "check: nats-server processes left behind:$leaked" >>"$recap_names"
  for pid in $leaked; do kill -9 "$pid" 2>/dev/null; done
  failed=$((failed + 1))
else
  echo "check ok: no nats-server left behind"
fi

if [ -s "$recap_names" ] || [ -s "$recap_details" ]; then
  echo "== the failures again (printed in full above)"
  head -n 20 "$recap_names"
  head -n 80 "$recap_details"
fi
echo "test.sh took $((SECONDS - started_at)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
