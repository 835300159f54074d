#!/usr/bin/env bash
# The whole test suite: checks (fmt, lint, type check, doc lint), then every test file
# under Deno and under Bun against real nats-servers. Installs what it needs on first run.
# The last line is "N passed, N failed", summed over both runtimes (failed checks count as failed).
set -uo pipefail
cd "$(dirname "$0")/.."
export WALNATS_NEEDS_BROWSER="${WALNATS_NEEDS_BROWSER:-1}"
source scripts/_setup.sh
export NO_COLOR=1

passed=0
failed=0
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

check() {
  local name=$1
  shift
  if "$@" >"$log_dir/check.log" 2>&1; then
    echo "check ok: $name"
  else
    echo "check FAILED: $name"
    tail -n 60 "$log_dir/check.log"
    failed=$((failed + 1))
  fi
}

# nats-server pids that were there before us are not ours to judge
before=" $(pgrep -x nats-server | tr '\n' ' ') "

check "deno fmt --check" deno fmt --check
check "deno lint" deno lint
check "deno check" deno check mod.ts testing.ts otel.ts prometheus.ts cli.ts admin.ts lint/ src/ tests/ examples/ bench/
check "JSDoc examples type-check" deno check --doc mod.ts testing.ts otel.ts prometheus.ts cli.ts admin.ts \
  lint/plugin.ts $(find src -name '*.ts' | sort)
check "every export has an @example" deno run -A scripts/doc_examples.ts
check "deno publish --dry-run" deno publish --dry-run --allow-dirty
check "deno doc --lint" deno doc --lint mod.ts testing.ts otel.ts prometheus.ts cli.ts admin.ts lint/plugin.ts
check "demo under Deno" timeout 120 env -u NATS_URL bash scripts/demo.sh deno
check "demo under Bun" timeout 120 env -u NATS_URL bash scripts/demo.sh bun
check "examples under Deno and Bun" timeout 600 env -u NATS_URL bash scripts/examples.sh
# Benchmarks are not timed tests: CI only checks that each still runs (--smoke), in both runtimes.
for bench in bench/*_bench.ts; do
  if grep -q "Deno.bench" "$bench"; then
    check "$bench smoke under deno bench" timeout 300 env WALNATS_BENCH_SMOKE=1 deno bench -A "$bench"
  else
    check "$bench --smoke under Deno" timeout 300 deno run -A "$bench" --smoke
  fi
  check "$bench --smoke under Bun" timeout 300 bun "$bench" --smoke
done

files=$(find tests -name '*_test.ts' | sort)
filter=("$@")

echo "== deno test"
timeout 1500 deno test -A "${filter[@]}" $files 2>&1 | tee "$log_dir/deno.log" | grep -E "^(.* \.\.\. (ok|FAILED)|running|ok \||FAILED \||error)" 
deno_rc=${PIPESTATUS[0]}
summary=$(grep -E "^(ok|FAILED) \| [0-9]+ passed" "$log_dir/deno.log" | tail -n 1)
if [ -n "$summary" ]; then
  p=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')
  f=$(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$deno_rc" != 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
else
  echo "deno test ended without a summary (exit $deno_rc):"
  tail -n 60 "$log_dir/deno.log"
  failed=$((failed + 1))
fi
if [ "$deno_rc" != 0 ]; then grep -A 30 -E "^(ERRORS|error:)" "$log_dir/deno.log" | head -n 120; fi

echo "== bun test"
timeout 1500 bun test --timeout 120000 $files 2>&1 | tee "$log_dir/bun.log" | grep -E "^\((pass|fail)\)|^ *[0-9]+ (pass|fail)$|error:"
bun_rc=${PIPESTATUS[0]}
p=$(grep -E "^ *[0-9]+ pass$" "$log_dir/bun.log" | tail -n 1 | tr -dc 0-9)
f=$(grep -E "^ *[0-9]+ fail$" "$log_dir/bun.log" | tail -n 1 | tr -dc 0-9)
if [ -n "$p" ]; then
  passed=$((passed + p))
  failed=$((failed + ${f:-0}))
  if [ "$bun_rc" != 0 ] && [ "${f:-0}" = 0 ]; then failed=$((failed + 1)); fi
else
  echo "bun test ended without a summary (exit $bun_rc):"
  tail -n 60 "$log_dir/bun.log"
  failed=$((failed + 1))
fi

# Bun prints a failure's error just before its "(fail)" line.
if [ "$bun_rc" != 0 ]; then grep -B 25 "^(fail)" "$log_dir/bun.log" | head -n 200; fi

# Anything the suites started must be gone (zombies awaiting their reaper are not running).
# The harness's watchdogs poll their parent every second.
sleep 3
leaked=""
for pid in $(pgrep -x nats-server); do
  case "$before" in *" $pid "*) continue ;; esac
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
  [ -n "$state" ] && [ "$state" != Z ] && leaked="$leaked $pid"
done
if [ -n "$leaked" ]; then
  echo "check FAILED: nats-server processes left behind by the tests:$leaked (killing them)"
  for pid in $leaked; do kill -9 "$pid" 2>/dev/null; done
  failed=$((failed + 1))
else
  echo "check ok: no nats-server left behind"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
