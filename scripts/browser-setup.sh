#!/usr/bin/env bash
# Installs what the browser test needs: Debian's headless Chromium and its WebDriver
# (chromedriver). Idempotent: does nothing when both are there. Needs root (or sudo)
# and the Debian package archive; `apt-get update` runs only when the package lists are
# missing or the install fails on stale lists.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then
  exit 0
fi
if ! have apt-get; then
  echo "browser-setup: no apt-get here; install chromium and chromedriver yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then SUDO="sudo"; else
    echo "browser-setup: run as root (or install sudo) to install chromium and chromium-driver" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
install() { $SUDO apt-get install -y --no-install-recommends chromium chromium-driver; }
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] || ! install; then
  $SUDO apt-get update
  install
fi
have chromium && have chromedriver
