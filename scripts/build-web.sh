#!/usr/bin/env bash
# Build the website into web/dist: Node from Debian when missing, npm packages from the
# lockfile (npm ci, only when the lockfile changed), then type-check and bundle.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-node.sh
cd web
stamp=node_modules/.lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "build-web: npm ci (web/package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
# Skip the bundle when nothing it is built from changed since the last build.
if [ -f dist/index.html ] && [ -z "$(find src index.html public package-lock.json vite.config.ts tsconfig.json \
     -newer dist/index.html -print -quit)" ]; then
  echo "build-web: web/dist is up to date"
  exit 0
fi
npm run --silent build
