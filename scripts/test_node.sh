#!/usr/bin/env bash
# The test suite under Node.js: TypeScript's compiler builds the tests and what they import
# into .build/ (tsconfig.test.json; not published), then `node --test` runs them against real
# nats-servers. Test files that need Deno (the deno lint plugin) are not built.
# The last line is "node: N passed, N failed" (a failed build counts as one failure).
#
#   bash scripts/test_node.sh                                   # every test file
#   bash scripts/test_node.sh tests/actors/workers_test.ts      # some of them
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
export NO_COLOR=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
rm -rf .build
if ! tsc -p tsconfig.test.json >"$log" 2>&1; then
  echo "node: the tests do not build:"
  tail -n 40 "$log"
  echo "node: 0 passed, 1 failed"
  exit 1
fi
# Files the tests read beside them (snapshots) are not TypeScript: copy them.
(cd tests && find . -type f ! -name '*.ts' -print0) | while IFS= read -r -d '' file; do
  mkdir -p ".build/tests/$(dirname "$file")"
  cp "tests/$file" ".build/tests/$file"
done
if [ $# -gt 0 ]; then
  files=""
  for file in "$@"; do files="$files .build/${file%.ts}.js"; done
else
  files=$(find .build/tests -name '*_test.js' | sort)
fi
# One file at a time (the machine has few cores and the tests start servers); each
# file still gets its own process.
timeout 1500 node --test --test-concurrency=1 --test-reporter=tap $files >"$log" 2>&1
rc=$?
grep -E "^(not ok|# (tests|pass|fail|cancelled))" "$log" | grep -v "^not ok .* # SKIP"
p=$(grep -E "^# pass [0-9]+$" "$log" | tail -n 1 | tr -dc 0-9)
f=$(grep -E "^# fail [0-9]+$" "$log" | tail -n 1 | tr -dc 0-9)
c=$(grep -E "^# cancelled [0-9]+$" "$log" | tail -n 1 | tr -dc 0-9)
if [ -z "$p" ]; then
  echo "node --test ended without a summary (exit $rc):"
  tail -n 60 "$log"
  echo "node: 0 passed, 1 failed"
  exit 1
fi
f=$((${f:-0} + ${c:-0}))
if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
if [ "$f" != 0 ]; then
  # TAP puts each failure's details under its "not ok" line.
  grep -A 30 -E "^ *not ok" "$log" | grep -v "^ *# Subtest" | head -n 300
fi
echo "node: took $(($(date +%s) - started)) s"
echo "node: $p passed, $f failed"
[ "$f" = 0 ]
