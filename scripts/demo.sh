#!/usr/bin/env bash
# The hello-world demo: a publisher and a subscriber. Uses NATS_URL when set, else starts a
# nats-server of its own. Runs under Deno by default; `scripts/demo.sh bun` runs it under Bun.
# Installs what it needs on first run (npm packages; nats-server through apt-get if permitted).
set -euo pipefail
cd "$(dirname "$0")/.."
WALNATS_NEEDS_SERVER_BINARY=0 source scripts/_setup.sh
case "${1:-deno}" in
  deno) exec deno run --allow-all examples/hello_world.ts ;;
  bun) exec bun examples/hello_world.ts ;;
  *)
    echo "usage: scripts/demo.sh [deno|bun]" >&2
    exit 2
    ;;
esac
