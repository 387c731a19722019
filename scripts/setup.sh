#!/usr/bin/env bash
# Sets up chaoslab on this machine: npm dependencies (and the build), Toxiproxy, Prometheus and the Go checkers.
# Installs only what is missing; safe to run again. Nothing here downloads a prebuilt binary:
# Toxiproxy is built from its Go module, Prometheus comes from Debian's package.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 3; }

TOXIPROXY_VERSION=v2.12.0

# 1. Node and the npm dependencies (npm ci also builds, through the prepare script).
command -v node >/dev/null || die "Node.js 20.11 or newer is needed (https://nodejs.org or your package manager)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=11)?0:1)' \
  || die "Node.js 20.11 or newer is needed; this is $(node --version)"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund
else
  say "npm dependencies present; building"
  npm run build --silent
fi

# 2. Toxiproxy: on PATH, or built into .tools/bin with go install.
if [ -n "${CHAOSLAB_TOXIPROXY:-}" ] && [ -x "$CHAOSLAB_TOXIPROXY" ]; then
  say "toxiproxy: $CHAOSLAB_TOXIPROXY"
elif command -v toxiproxy-server >/dev/null; then
  say "toxiproxy: $(command -v toxiproxy-server)"
elif [ -x .tools/bin/toxiproxy-server ]; then
  say "toxiproxy: .tools/bin/toxiproxy-server"
else
  command -v go >/dev/null || die "Toxiproxy is missing and Go is not installed to build it: install Go (apt-get install golang) or put toxiproxy-server on PATH"
  say "building toxiproxy ${TOXIPROXY_VERSION} with go install (a minute the first time)"
  mkdir -p .tools/bin
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@${TOXIPROXY_VERSION}" \
    || die "go install of toxiproxy failed (see above)"
  mv "$tmp/server" .tools/bin/toxiproxy-server   # go install names the binary after its folder: server
  rmdir "$tmp"
  say "toxiproxy: .tools/bin/toxiproxy-server"
fi

# 3. Prometheus: on PATH, or Debian's package.
if [ -n "${CHAOSLAB_PROMETHEUS:-}" ] && [ -x "$CHAOSLAB_PROMETHEUS" ]; then
  say "prometheus: $CHAOSLAB_PROMETHEUS"
elif command -v prometheus >/dev/null; then
  say "prometheus: $(command -v prometheus)"
elif [ -x /usr/bin/prometheus ]; then
  say "prometheus: /usr/bin/prometheus"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  say "installing Debian's prometheus package"
  export DEBIAN_FRONTEND=noninteractive
  # The package starts a system service; the lab runs its own Prometheus per run. policy-rc.d (Debian's switch
  # for this) keeps the service from starting; what the package started anyway is stopped by its own service
  # or pidfile, never by name: other Prometheus servers on the machine are not ours to stop.
  policy=/usr/sbin/policy-rc.d
  made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    trap 'rm -f "$policy"' EXIT
  fi
  running_before=" $(pgrep -x prometheus | tr '\n' ' ' || true) "
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -n "$made_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  pidfile=/run/prometheus/prometheus.pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  # Only the package's daemon: named in its pidfile, not running before this install, and /usr/bin/prometheus.
  if [ -n "$pid" ] && [ "${running_before#* $pid }" = "$running_before" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/bin/prometheus ]; then
    kill "$pid" 2>/dev/null || true
  fi
  say "prometheus: /usr/bin/prometheus"
else
  die "Prometheus is missing: install it (Debian/Ubuntu: sudo apt-get install prometheus) or put prometheus on PATH, then run this again"
fi

# 4. libfaketime (Debian package): clock faults preload it into the nodes they skew (docs/clock-faults.md).
faketime_lib() {
  if [ -n "${CHAOSLAB_LIBFAKETIME:-}" ] && [ -r "$CHAOSLAB_LIBFAKETIME" ]; then echo "$CHAOSLAB_LIBFAKETIME"; return; fi
  [ -r /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 ] && { echo /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1; return; }
  command -v dpkg >/dev/null && dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -n1
}
if lib=$(faketime_lib) && [ -n "$lib" ]; then
  say "libfaketime: $lib"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  say "installing Debian's libfaketime package (clock faults)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends libfaketime >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends libfaketime >/dev/null; } \
    || die "apt-get install libfaketime failed (see above)"
  say "libfaketime: $(faketime_lib)"
else
  # Only scenarios with a clock fault need it (they stop with exit 3 naming the package): the rest works without.
  printf 'setup: warning: libfaketime is missing; scenarios with a clock fault need it: install it (Debian/Ubuntu: sudo apt-get install libfaketime) or set CHAOSLAB_LIBFAKETIME to libfaketime.so.1\n' >&2
fi

# 5. The lab's Go checkers (Porcupine for linearizability), with the Go toolchain that built Toxiproxy.
bash scripts/build-checkers.sh

say "ready. Try: npx chaoslab run scenarios/hello-latency.yaml"
