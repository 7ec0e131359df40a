# Shared by scripts/run and scripts/test: the virtual environment and local services.
# shellcheck shell=bash

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

log() { printf '\033[1mwarmline:\033[0m %s\n' "$*" >&2; }

# Create .venv and install a requirements file, skipping the install when nothing changed.
ensure_venv() {
  local requirements=$1 stamp
  if [ ! -x .venv/bin/python ]; then
    log "creating the virtual environment in .venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
  fi
  stamp=".venv/.installed-$(basename "$requirements")-$(cat requirements*.txt | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "installing $requirements"
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$stamp"
  fi
}

redis_answers() { # $1: a redis:// URL
  .venv/bin/python - "$1" <<'PY' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PY
}

# Start a throwaway local redis-server (keeps nothing on disk) when none answers.
ensure_redis() {
  local url=${1:-redis://localhost:6379/0} port
  redis_answers "$url" && return 0
  if ! command -v redis-server >/dev/null 2>&1; then
    log "no Redis answers at $url and redis-server is not installed."
    log "install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL."
    return 1
  fi
  port=$(.venv/bin/python -c "import sys,urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 6379)" "$url")
  log "starting a local redis-server on port $port"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis_answers "$url" && return 0; sleep 0.1; done
  log "redis-server did not start"; return 1
}

postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

# Tests need PostgreSQL: start the machine's cluster when it is installed but stopped.
ensure_postgres() {
  postgres_answers && return 0
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 50); do postgres_answers && return 0; sleep 0.2; done
  fi
  log "PostgreSQL does not answer on 127.0.0.1:5432 (set WARMLINE_TEST_PG_ADMIN_URL to point at one)"
  return 1
}

# Browser tests drive Debian's chromium; install it when we can (root with apt-get).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    log "chromium is not installed: browser tests will be skipped (sudo apt-get install chromium)"
  fi
}

# The production topology test starts deploy/Caddyfile in front of gunicorn: Debian's caddy.
ensure_caddy() {
  command -v caddy >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing caddy from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy openssl >/dev/null
    # The package starts its own service (Debian's sample site on port 80) where systemd runs:
    # tests start their own Caddy, so that one is stopped and left off.
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi
  else
    log "caddy is not installed: the TLS topology test will be skipped (sudo apt-get install caddy)"
  fi
}
