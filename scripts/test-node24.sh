#!/usr/bin/env bash
# The unit and integration layers again under Node 24 LTS: the lab supports Node >= 20.11 and CI's node is 20
# (past end of life). Node 24 comes from the npm package `node@24`, which carries the binary; it is installed
# beside the project (.tools/node24), never into its dependencies. CHAOSLAB_NODE24_DIR puts it elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mkdir -p "${CHAOSLAB_NODE24_DIR:-.tools/node24}" && cd "${CHAOSLAB_NODE24_DIR:-.tools/node24}" && pwd)
bin="$prefix/node_modules/node/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$prefix" node@24
fi
version=$("$bin/node" --version 2>/dev/null || true)
if [[ $version != v24.* ]]; then
  echo "test-node24: no Node 24 at $bin/node after 'npm install node@24' (got '${version:-nothing}'); the package's" >&2
  echo "  preinstall script puts the binary there: check that npm ran it (npm install-scripts ls)." >&2
  exit 1
fi
# Everything the tests start by name (`node`, toys via process.execPath) runs under Node 24 too.
export PATH="$bin:$PATH"
echo "test-node24: unit and integration layers under Node $version"
node node_modules/vitest/vitest.mjs run --project unit --project integration
