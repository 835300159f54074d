#!/usr/bin/env bash
# The npm package, checked from outside as a user gets it: `npm pack` (prepack builds dist/),
# then fresh projects in a temporary directory outside the repository install the tarball
# and type-check and run scripts/pack_check/program.ts, which imports every entry point
# by the package's name and emits, handles and requests against a real nats-server:
# - npm and Node.js: a plain install first (its size; the core entry points run without
#   the optional peers, plain.mjs), then with them: tsc --strict --noUncheckedIndexedAccess
#   --exactOptionalPropertyTypes --module nodenext, the program built and run by node;
# - Bun: the project and tsconfig of `bun init`, `bun add` of the tarball, its tsc, bun;
# - Deno: package.json + deno.json (nodeModulesDir "manual", the same strict options),
#   `npm install` of the tarball, deno check, deno run;
# and `walnats --help` through the package's bin in each.
# Prints "check ok: …" / "check FAILED: …" lines and ends with "pack: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
export NO_COLOR=1
repo=$PWD
tsc="$repo/node_modules/.bin/tsc"
work=$(mktemp -d "${TMPDIR:-/tmp}/walnats-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {
  local name=$1
  shift
  if "$@" >"$work/check.log" 2>&1; then
    echo "check ok: $name"
    passed=$((passed + 1))
  else
    echo "check FAILED: $name"
    tail -n 40 "$work/check.log"
    failed=$((failed + 1))
  fi
}

in_dir() {
  local dir=$1
  shift
  (cd "$dir" && "$@")
}

npm_install() {
  npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@"
}

# The peers of the optional entry points, and what the program imports itself.
peers=("@opentelemetry/api@^1.9.0" "prom-client@^15.1.0" "valibot@^1.5.0")

check "npm pack (prepack builds dist/)" npm pack --pack-destination "$work"
tarball=$(ls "$work"/walnats-walnats-*.tgz 2>/dev/null | head -n 1)
if [ -z "$tarball" ]; then
  echo "pack: $passed passed, $((failed + 1)) failed"
  exit 1
fi
files=$(tar tzf "$tarball" | wc -l)
echo "pack: tarball $(basename "$tarball"), $(wc -c <"$tarball") bytes, $files files"
leaked=$(tar tzf "$tarball" | grep -E '^package/(tests|bench|examples|scripts|src|\.build|node_modules)/|\.ts$' | grep -v '\.d\.ts$' | head -n 5)
check "tarball holds no sources, tests or benchmarks" test -z "$leaked"

# --- npm and Node.js
node_dir="$work/node"
mkdir -p "$node_dir"
echo '{ "name": "walnats-pack-node", "private": true, "type": "module" }' >"$node_dir/package.json"
cp scripts/pack_check/program.ts scripts/pack_check/plain.mjs "$node_dir/"
check "node: npm install of the tarball alone" in_dir "$node_dir" npm_install "$tarball"
echo "pack: plain install $(du -sk "$node_dir/node_modules" | cut -f1) kB in node_modules," \
  "$(find "$node_dir/node_modules" -name package.json -path '*/node_modules/*/package.json' \
    -not -path '*/node_modules/*/node_modules/*/*' | wc -l) packages"
check "node: the core entry points run without the optional peers" \
  in_dir "$node_dir" timeout 120 node plain.mjs
check "node: npm install of the optional peers, typescript and @types/node" \
  in_dir "$node_dir" npm_install "${peers[@]}" typescript@6.0.3 @types/node@20
node_tsc=(--strict --noUncheckedIndexedAccess --exactOptionalPropertyTypes --module nodenext
  --types node)
# nats.js's own declarations do not pass exactOptionalPropertyTypes (class MsgImpl implements
# Msg...): with the user's own skipLibCheck they are not checked. Ours must pass without it,
# also without the DOM library (a Node.js project need not have it).
node_types() {
  ./node_modules/.bin/tsc "${node_tsc[@]}" "$@" --noEmit program.ts >tsc.log 2>&1
  cat tsc.log
  ! grep "error TS" tsc.log | grep -v "^node_modules/@nats-io/"
}
check "node: tsc ${node_tsc[*]}: no error in the program or the package's types" \
  in_dir "$node_dir" node_types
check "node: the same with --lib es2023 (no DOM)" in_dir "$node_dir" node_types --lib es2023
check "node: the same with --skipLibCheck: no error at all" \
  in_dir "$node_dir" ./node_modules/.bin/tsc "${node_tsc[@]}" --noEmit --skipLibCheck program.ts
check "node: the program runs (emit, handle, request)" in_dir "$node_dir" bash -c \
  "./node_modules/.bin/tsc ${node_tsc[*]} --target es2022 --skipLibCheck --outDir out program.ts &&
   timeout 120 node out/program.js"
check "node: walnats --help through the bin" \
  in_dir "$node_dir" bash -c "./node_modules/.bin/walnats --help | grep -q '^Usage: walnats'"

# --- Bun
bun_dir="$work/bun"
mkdir -p "$bun_dir"
check "bun: bun init" in_dir "$bun_dir" timeout 120 bun init -y
cp scripts/pack_check/program.ts "$bun_dir/"
check "bun: bun add of the tarball and the optional peers" \
  in_dir "$bun_dir" timeout 120 bun add "$tarball" "${peers[@]}"
check "bun: tsc with bun init's tsconfig" in_dir "$bun_dir" timeout 300 ./node_modules/.bin/tsc --noEmit -p .
check "bun: the program runs (emit, handle, request)" in_dir "$bun_dir" timeout 120 bun program.ts
check "bun: walnats --help through the bin" \
  in_dir "$bun_dir" bash -c "timeout 60 bunx walnats --help | grep -q '^Usage: walnats'"

# --- Deno
deno_dir="$work/deno"
mkdir -p "$deno_dir"
echo '{ "name": "walnats-pack-deno", "private": true, "type": "module" }' >"$deno_dir/package.json"
cat >"$deno_dir/deno.json" <<'JSON'
{
  "nodeModulesDir": "manual",
  "compilerOptions": {
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "exactOptionalPropertyTypes": true
  }
}
JSON
cp scripts/pack_check/program.ts "$deno_dir/"
check "deno: npm install of the tarball and the optional peers" \
  in_dir "$deno_dir" npm_install "$tarball" "${peers[@]}"
check "deno: deno check" in_dir "$deno_dir" timeout 300 deno check program.ts
check "deno: the program runs (emit, handle, request)" \
  in_dir "$deno_dir" timeout 120 deno run -A program.ts
check "deno: walnats --help through the bin" in_dir "$deno_dir" bash -c \
  "timeout 60 deno run -A npm:@walnats/walnats --help | grep -q '^Usage: walnats'"

echo "pack: $passed passed, $failed failed"
[ "$failed" = 0 ]
