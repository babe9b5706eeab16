#!/usr/bin/env bash
# Install the system packages the tests and the demo need, when they are missing.
# redis-server: the rate limiter and cache contract tests run against a real Redis.
# bubblewrap: the local sandbox for agent code (shared/adapters/local/sandbox.py); its uid
#   switch and staging use setpriv, unshare, prlimit and mount from util-linux / mount.
# libseccomp2: the library behind pyseccomp, which compiles the sandbox's seccomp filter.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
command -v mount >/dev/null 2>&1 || missing+=(mount)
/sbin/ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2 ' || missing+=(libseccomp2)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "install-system-deps: need root or sudo to install: ${missing[*]}" >&2
  echo "install-system-deps: tests that need them will be skipped" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
