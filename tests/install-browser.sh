#!/bin/sh
# The browser tests drive Debian's chromium (tests/test_pages_browser.py); install it
# once on a clean machine. Quiet, and a no-op when it is already there.
set -e
[ -x /usr/bin/chromium ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
