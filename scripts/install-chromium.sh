#!/bin/sh
# Installs Chromium from Debian's packages for the test that opens `wacx report --html` in a headless browser.
# Quiet, no prompt; nothing to do when /usr/bin/chromium is there. Needs root (CI runs as root).
set -eu
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: /usr/bin/chromium is missing; run as root or: sudo apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >/dev/null
apt-get install -y -qq chromium </dev/null >/dev/null
