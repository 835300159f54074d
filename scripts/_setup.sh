# Sourced by scripts/test.sh and scripts/demo.sh: install what is missing, once.
# - npm packages (deno and bun binaries, nats.js, valibot) from package-lock.json
# - with WALNATS_SERVER_MATRIX=1 (scripts/test.sh): the nats-server matrix (scripts/_servers.sh:
#   Debian's 2.9, 2.10 and current releases in a cache outside the repository), unless
#   NATS_SERVER_BIN names the one binary to use; WALNATS_NATS_SERVER_VERSION then defaults to
#   "current" for everything started from here
# - otherwise nats-server through apt-get when missing and we are root (or have sudo without password)

if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install --no-save` rather than `npm ci`: the lock file pins every version, but it can
  # only list the platform packages of deno and bun that the registry served when it was written,
  # and `npm ci` refuses a lock file that lacks an optional package for another platform.
  echo "setup: installing npm packages from package-lock.json" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error >&2 || {
    echo "setup: npm install failed" >&2
    echo "0 passed, 1 failed"
    exit 1
  }
fi
export PATH="$PWD/node_modules/.bin:$PATH"

source scripts/_servers.sh
if [ "${WALNATS_SERVER_MATRIX:-0}" = 1 ] && [ -z "${NATS_SERVER_BIN:-}" ]; then
  walnats_fetch_servers || {
    echo "0 passed, 1 failed"
    exit 1
  }
  export WALNATS_NATS_SERVER_VERSION=${WALNATS_NATS_SERVER_VERSION:-current}
fi

find_nats_server() {
  if [ -n "${NATS_SERVER_BIN:-}" ] && [ -x "$NATS_SERVER_BIN" ]; then return 0; fi
  if [ -n "${WALNATS_NATS_SERVER_VERSION:-}" ]; then
    walnats_cached_server "$WALNATS_NATS_SERVER_VERSION" >/dev/null && return 0
    echo "setup: nats-server $WALNATS_NATS_SERVER_VERSION (WALNATS_NATS_SERVER_VERSION) is not cached; run bash scripts/_servers.sh" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  command -v nats-server >/dev/null 2>&1 && return 0
  [ -x /usr/sbin/nats-server ] || [ -x /usr/local/sbin/nats-server ]
}

if ! find_nats_server; then
  if [ -n "${NATS_URL:-}" ] && [ "${WALNATS_NEEDS_SERVER_BINARY:-1}" = 0 ]; then
    : # the demo can use an existing server
  elif command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing nats-server with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server) >&2 || {
      echo "setup: apt-get install nats-server failed" >&2
      echo "0 passed, 1 failed"
      exit 1
    }
  elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "setup: installing nats-server with sudo apt-get" >&2
    (sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server) >&2 || exit 1
  else
    echo "setup: nats-server is not installed and cannot be installed from here." >&2
    echo "  Debian/Ubuntu: sudo apt-get install nats-server" >&2
    echo "  macOS:         brew install nats-server" >&2
    echo "  or set NATS_SERVER_BIN to the binary's path" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

# The dashboard's browser test drives Debian's chromium (tests/dashboard/dashboard_browser_test.ts).
# scripts/test.sh asks for it with WALNATS_NEEDS_BROWSER=1; without a browser that test skips
# and says why, so a machine that cannot install it still runs everything else.
if [ "${WALNATS_NEEDS_BROWSER:-0}" = 1 ] && ! command -v chromium >/dev/null 2>&1 &&
  [ -z "${CHROMIUM_BIN:-}" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing chromium with apt-get (for the dashboard's browser test)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 ||
      echo "setup: apt-get install chromium failed: the browser test will be skipped" >&2
  else
    echo "setup: chromium is not installed (apt-get install chromium, or set CHROMIUM_BIN):" \
      "the dashboard's browser test will be skipped" >&2
  fi
fi
