#!/bin/sh
# Installs what the PostgreSQL store needs from Debian's packages: libpq's headers (the libpq module builds
# against them at `npm ci`) and the server binaries the tests start a throwaway server from (initdb, pg_ctl).
# Quiet, no prompt; nothing to do when both are there. Needs root to install (CI runs as root).
set -eu
has_headers() { [ -f "$(pg_config --includedir 2>/dev/null)/libpq-fe.h" ] || [ -f /usr/include/postgresql/libpq-fe.h ]; }
has_server() { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
missing=""
has_headers || missing="$missing libpq-dev"
has_server || missing="$missing postgresql"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-postgres: missing$missing; run as root or: sudo apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq $missing </dev/null >/dev/null
