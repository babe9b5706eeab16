#!/usr/bin/env bash
# Install Node.js and npm from Debian's packages when they are missing (the website's build).
set -euo pipefail

if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "install-node: node and npm are missing and installing them needs root or sudo" >&2
  exit 1
fi
echo "install-node: installing nodejs and npm (Debian packages)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
node --version
