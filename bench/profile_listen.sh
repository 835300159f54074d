#!/usr/bin/env bash
# Profile the listener alone: a nats-server on a free port, N messages of 100 bytes filled by one
# process, then a second process that only consumes them (walnats, or raw nats.js consume()), so
# that the profile holds nothing but the consuming side. Prints the rate, the consumer's CPU
# (user/sys) and the server's CPU seconds spent while consuming.
#
#   bash bench/profile_listen.sh                      # walnats under Bun, no profile
#   RAW=1000 bash bench/profile_listen.sh             # raw consume({ max_messages: 1000 })
#   bash bench/profile_listen.sh bun --cpu-prof-md --cpu-prof-dir=/tmp/prof
#   bash bench/profile_listen.sh deno run -A          # under Deno
#   bash bench/profile_listen.sh deno run -A bench/_inspect_profile.ts /tmp/w.cpuprofile
#                                                     # a Deno CPU profile (see that file)
#   DEBUG=1 bash bench/profile_listen.sh              # also sample health() every 100 ms
#
# N (default 100000) sets the message count. Needs nats-server on PATH (or NATS_SERVER_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
server=${NATS_SERVER_BIN:-nats-server}
dir=$(mktemp -d)
port=$(bun -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"$server" -a 127.0.0.1 -p "$port" -js -sd "$dir" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
export URL="nats://127.0.0.1:$port" N="${N:-100000}"
FILL=1 bun bench/_profile_listen.ts
before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
if [ $# -eq 0 ]; then set -- bun; fi
/usr/bin/time -f "consumer cpu: user %U s, sys %S s" "$@" bench/_profile_listen.ts
after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
echo "server cpu while consuming: $(( (after - before) * 10 )) ms"
