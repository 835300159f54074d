# Sourced by scripts/_setup.sh (or run: `bash scripts/_servers.sh`): the nats-server matrix.
#
# Fetches Debian's `nats-server` package of bookworm (2.9.x), trixie (2.10.x) and sid (the current
# release) with `apt-get download` and unpacks each static binary into a cache outside the
# repository:
#
#   ${WALNATS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/walnats}/nats-server/<version>/nats-server
#   .../nats-server/current -> <version of sid>
#
# Nothing is installed and the system's package sources stay as they were: apt runs with its own
# sources list, lists and cache directories under the cache. The mirror is the one the system's
# Debian sources already use (or WALNATS_DEBIAN_MIRROR). When every suite is cached and younger than
# WALNATS_SERVERS_MAX_AGE days (default 7), nothing is fetched; when a refresh fails but binaries are
# cached, those are used with a warning.
#
# startNatsServer({ version }) and WALNATS_NATS_SERVER_VERSION pick a binary from this cache.

walnats_servers_dir() {
  echo "${WALNATS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/walnats}/nats-server"
}

# The Debian archive URL of the system's own sources (deb822 `URIs:` or one-line `deb` entries),
# the first one ending in /debian.
walnats_debian_mirror() {
  if [ -n "${WALNATS_DEBIAN_MIRROR:-}" ]; then
    echo "$WALNATS_DEBIAN_MIRROR"
    return 0
  fi
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] && files+=("$f")
  done
  [ ${#files[@]} = 0 ] && return 1
  # Comments are left out: a snapshot URL in a comment is not what apt uses.
  grep -hv '^[[:space:]]*#' "${files[@]}" |
    grep -oE '(https?)://[^][ "]+/debian/?([[:space:]]|$)' |
    head -n 1 | tr -d '[:space:]' | sed 's:/$::'
}

# walnats_fetch_servers: make sure the three binaries are in the cache. Returns non-zero with a
# message on stderr when a suite is neither cached nor fetchable.
walnats_fetch_servers() {
  local root suites=(bookworm trixie sid) suite missing=0 max_age=${WALNATS_SERVERS_MAX_AGE:-7}
  root=$(walnats_servers_dir)
  for suite in "${suites[@]}"; do
    local marker="$root/suite-$suite"
    if [ ! -f "$marker" ] || [ ! -x "$root/$(cat "$marker")/nats-server" ] ||
      [ -n "$(find "$marker" -mtime +"$max_age" 2>/dev/null)" ]; then
      missing=1
    fi
  done
  [ "$missing" = 0 ] && return 0

  local mirror
  mirror=$(walnats_debian_mirror)
  if [ -z "$mirror" ]; then
    walnats_servers_fallback "cannot find a Debian mirror in /etc/apt/sources.list{,.d}; set WALNATS_DEBIAN_MIRROR to the URL of a Debian archive (ending in /debian)"
    return
  fi
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  local apt_dir="$root/.apt" sources signed=""
  [ -r "$keyring" ] && signed="[signed-by=$keyring] "
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/download"
  sources="$apt_dir/sources.list"
  : >"$sources"
  for suite in "${suites[@]}"; do echo "deb $signed$mirror $suite main" >>"$sources"; done
  local apt_options=(
    -o "Dir::Etc::sourcelist=$sources" -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Get::List-Cleanup=0" -q
  )
  echo "setup: fetching Debian's nats-server packages (${suites[*]}) into $root" >&2
  # --error-on=any: an unreachable mirror is an error, not a warning with an old list.
  if ! apt-get "${apt_options[@]}" --error-on=any update >"$apt_dir/update.log" 2>&1; then
    walnats_servers_fallback "apt-get update with the private sources list $sources failed (log: $apt_dir/update.log)"
    return
  fi
  for suite in "${suites[@]}"; do
    local work="$apt_dir/download/$suite" deb version
    rm -rf "$work" && mkdir -p "$work"
    if ! (cd "$work" && apt-get "${apt_options[@]}" download "nats-server/$suite") >"$work.log" 2>&1; then
      walnats_servers_fallback "apt-get download nats-server/$suite failed (log: $work.log)"
      return
    fi
    deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ] || ! dpkg-deb -x "$deb" "$work/root" 2>>"$work.log" ||
      [ ! -x "$work/root/usr/sbin/nats-server" ]; then
      walnats_servers_fallback "cannot unpack usr/sbin/nats-server from ${deb:-the $suite package} (log: $work.log)"
      return
    fi
    # "nats-server: v2.10.27" -> 2.10.27: the upstream version names the directory.
    version=$("$work/root/usr/sbin/nats-server" --version 2>/dev/null | sed -nE 's/.*v([0-9][0-9.]*).*/\1/p')
    if [ -z "$version" ]; then
      walnats_servers_fallback "the nats-server of $suite ($deb) does not run here"
      return
    fi
    mkdir -p "$root/$version"
    cp "$work/root/usr/sbin/nats-server" "$root/$version/nats-server.tmp" &&
      mv "$root/$version/nats-server.tmp" "$root/$version/nats-server"
    echo "$version" >"$root/suite-$suite"
    [ "$suite" = sid ] && ln -sfn "$version" "$root/current"
    rm -rf "$work"
    echo "setup: nats-server $version ($suite) -> $root/$version/nats-server" >&2
  done
  rm -f "$apt_dir/cache/archives/"*.deb
}

# walnats_cached_server VERSION: the cached binary for "current", "2.10" (newest 2.10.x) or an
# exact "2.10.27", as startNatsServer({ version }) picks it; non-zero when not cached.
walnats_cached_server() {
  local root found
  root=$(walnats_servers_dir)
  case "$1" in
    current) found="$root/current/nats-server" ;;
    *.*.*) found="$root/$1/nats-server" ;;
    *) found=$(ls -d "$root/$1".* 2>/dev/null | sort -V | tail -n 1)/nats-server ;;
  esac
  [ -x "$found" ] && echo "$found"
}

# A refresh failed: fine when every suite is cached from an earlier run, an error otherwise.
walnats_servers_fallback() {
  local root suite
  root=$(walnats_servers_dir)
  for suite in bookworm trixie sid; do
    if [ ! -f "$root/suite-$suite" ] || [ ! -x "$root/$(cat "$root/suite-$suite")/nats-server" ]; then
      echo "setup: cannot fetch the nats-server matrix: $1." >&2
      echo "  The matrix needs apt-get and dpkg-deb (Debian/Ubuntu) and a reachable Debian mirror." >&2
      echo "  Without it, set NATS_SERVER_BIN to one nats-server binary to test on that one only." >&2
      return 1
    fi
  done
  echo "setup: warning: $1; using the cached nats-server binaries" >&2
  touch "$root"/suite-* 2>/dev/null
  return 0
}

# Run directly: fetch and list the cache.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -uo pipefail
  walnats_fetch_servers || exit 1
  for marker in "$(walnats_servers_dir)"/suite-*; do
    echo "${marker##*/suite-}: $(dirname "$marker")/$(cat "$marker")/nats-server"
  done
fi
