#!/usr/bin/env bash
# Makes sure Chromium is at /usr/bin/chromium for the browser end-to-end
# tests (see ../shared/BROWSER_TESTING.md). As root it installs Debian's
# package; otherwise it says what to run.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing: run 'sudo apt-get update && sudo apt-get install -y chromium' (the browser tests need /usr/bin/chromium)" >&2
  exit 1
fi
echo "installing Chromium with apt-get (once per machine)..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
