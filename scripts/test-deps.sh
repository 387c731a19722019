#!/usr/bin/env bash
# What the tests need beyond scripts/setup.sh: a Chromium for the report's browser test
# (test/e2e/report-and-dashboards.test.ts drives it with playwright-core, an npm devDependency), and a small
# OCI registry for test/e2e/docker-registry.test.ts (built with Go, which setup.sh installs).
# Installs only what is missing; safe to run again. Chromium comes from Debian's package:
# nothing here downloads a browser build (never `npx playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'test-deps: %s\n' "$*" >&2; exit 3; }

if [ -n "${CHAOSLAB_CHROMIUM:-}" ]; then
  [ -x "$CHAOSLAB_CHROMIUM" ] || die "CHAOSLAB_CHROMIUM=$CHAOSLAB_CHROMIUM is not an executable file"
  say "chromium: $CHAOSLAB_CHROMIUM"
elif [ -x /usr/bin/chromium ]; then
  say "chromium: /usr/bin/chromium"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  say "installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  [ -x /usr/bin/chromium ] || die "apt-get installed chromium, but /usr/bin/chromium is missing"
  say "chromium: /usr/bin/chromium"
else
  die "Chromium is missing: install it (Debian/Ubuntu: sudo apt-get install chromium), or set CHAOSLAB_CHROMIUM to a Chromium binary, then run this again"
fi

# xmllint (Debian's libxml2-utils) checks junit.xml against test/fixtures/junit.xsd (src/report/junit.int.test.ts).
command -v xmllint >/dev/null || { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libxml2-utils >/dev/null; } || die "xmllint is missing: install it (Debian/Ubuntu: sudo apt-get install libxml2-utils), then run this again"

# go-containerregistry's in-memory registry (images push against a real registry), from the Go module proxy.
bash scripts/build-registry.sh

# playwright-core is a devDependency; setup.sh's npm ci installs it.
[ -d node_modules/playwright-core ] || die "node_modules/playwright-core is missing: run npm ci (or bash scripts/setup.sh) first"
say "test dependencies ready"
