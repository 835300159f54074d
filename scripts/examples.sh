#!/usr/bin/env bash
# Run every example (examples/*.ts but the _-prefixed helpers) under Deno and under Bun,
# each against NATS_URL when it is set, else against a nats-server it starts itself, and the
# test file that docs/testing.md shows (examples/docs/testing/, with its own nats-server).
# Prints one line per example and runtime; exits non-zero when any of them fails.
#
#   bash scripts/examples.sh              # both runtimes
#   bash scripts/examples.sh deno         # one runtime
#   bash scripts/examples.sh bun worker_cpu request_response
set -uo pipefail
cd "$(dirname "$0")/.."
WALNATS_NEEDS_SERVER_BINARY=0 source scripts/_setup.sh
export NO_COLOR=1

runtimes=(deno bun)
case "${1:-}" in
  deno | bun)
    runtimes=("$1")
    shift
    ;;
esac

examples=()
doc_tests=""
if [ $# -gt 0 ]; then
  for name in "$@"; do examples+=("examples/${name%.ts}.ts"); done
else
  for file in examples/*.ts; do
    case "$(basename "$file")" in _*) continue ;; esac
    examples+=("$file")
  done
  # The docs' sample tests start their own server: they need the nats-server binary.
  if find_nats_server; then
    doc_tests="examples/docs/testing"
  else
    echo "example skipped: test examples/docs/testing (no nats-server binary; NATS_URL is not enough)"
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
ok=0
failed=0
for runtime in "${runtimes[@]}"; do
  for file in "${examples[@]}" ${doc_tests:+"test:$doc_tests"}; do
    case $runtime:$file in
      deno:test:*) command=(deno test --allow-all "${file#test:}") ;;
      bun:test:*) command=(bun test --timeout 60000 "./${file#test:}") ;;
      deno:*) command=(deno run --allow-all "$file") ;;
      bun:*) command=(bun "$file") ;;
    esac
    file=${file/#test:/test }
    start=$(date +%s%N)
    timeout 120 "${command[@]}" >"$log" 2>&1
    rc=$?
    seconds=$(awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }')
    if [ "$rc" = 0 ]; then
      echo "example ok: $runtime $file (${seconds} s)"
      ok=$((ok + 1))
    else
      reason="exit $rc"
      [ "$rc" = 124 ] && reason="timed out after 120 s"
      echo "example FAILED: $runtime $file ($reason, ${seconds} s)"
      tail -n 30 "$log" | sed 's/^/  | /'
      failed=$((failed + 1))
    fi
  done
done

echo "examples: $ok ok, $failed failed"
[ "$failed" = 0 ]
