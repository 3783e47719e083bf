#!/bin/sh
# Runs Node.js >= 22.18 (the sources are TypeScript that Node runs directly). When the node on PATH is
# older (Debian 12 ships 20), Node.js 24 is installed once from the npm registry into .cache/node.
# Usage: bin/node.sh [node args...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null; }
NODE=$(command -v node || true)
if [ -z "$NODE" ] || ! ok "$NODE"; then
  NODE=$ROOT/.cache/node/node_modules/.bin/node
  if ! ok "$NODE"; then
    echo "bin/node.sh: installing Node.js 24 into .cache/node (found $(node --version 2>/dev/null || echo none))" >&2
    npm install --silent --no-save --prefix "$ROOT/.cache/node" node@24 >&2
    ok "$NODE" || { echo "bin/node.sh: could not install Node.js 24" >&2; exit 1; }
  fi
fi
exec "$NODE" "$@"
