#!/usr/bin/env bash
# Makes a Docker engine answer for chaoslab's Docker runtime: installs Debian's docker.io if dockerd is missing,
# starts dockerd in the background if no engine answers, and waits until it does. Safe to run again.
# Honours DOCKER_HOST: when it names a remote engine, nothing is installed or started; we only wait for it.
# Afterwards build the images with `npx chaoslab images build` (offline: from the binaries on this machine).
set -euo pipefail
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'docker-setup: %s\n' "$*" >&2; exit 3; }

LOG=${CHAOSLAB_DOCKERD_LOG:-/var/log/chaoslab-dockerd.log}
WAIT_S=${CHAOSLAB_DOCKERD_WAIT:-60}

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then
  say "docker engine answers: $(docker version --format '{{.Server.Version}}') (${DOCKER_HOST:-unix:///var/run/docker.sock})"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [[ "$DOCKER_HOST" != unix://* ]]; then
  die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start it there, or unset DOCKER_HOST to use a local one"
fi

# 1. The engine: Debian's docker.io (dockerd, containerd, runc, docker-init, docker-proxy).
if ! command -v dockerd >/dev/null; then
  [ "$(id -u)" = 0 ] || die "dockerd is missing; as root: apt-get install docker.io (or install Docker Engine your way)"
  command -v apt-get >/dev/null || die "dockerd is missing and this is not Debian/Ubuntu: install Docker Engine, then run this again"
  say "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt may hold the lock (e.g. a machine's first boot): wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends docker.io >/dev/null
fi

# 2. Start dockerd unless it already runs (its socket may just be slow to answer).
if ! pgrep -x dockerd >/dev/null; then
  [ "$(id -u)" = 0 ] || die "dockerd is not running; start it (sudo systemctl start docker) or ask your admin"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    say "starting docker with systemctl (for faithful latencies set \"userland-proxy\": false in /etc/docker/daemon.json)"
    systemctl start docker || true
  fi
  if ! pgrep -x dockerd >/dev/null; then
    say "starting dockerd in the background (log: $LOG)"
    mkdir -p "$(dirname "$LOG")"
    # setsid + nohup: dockerd outlives this script and the shell that ran it.
    # --userland-proxy=false: ports published on 127.0.0.1 are forwarded by the kernel, not copied by one
    # docker-proxy process per port, which stalls new connections for hundreds of ms at a few hundred per second
    # (the load generator opens new ones whenever a toy slows down) and would skew latency verdicts.
    setsid nohup dockerd --userland-proxy=false >>"$LOG" 2>&1 </dev/null &
  fi
fi

# 3. Wait until it answers.
for _ in $(seq 1 "$WAIT_S"); do
  if answers; then
    say "docker engine answers: $(docker version --format '{{.Server.Version}}')"
    exit 0
  fi
  sleep 1
done
tail -n 20 "$LOG" >&2 2>/dev/null || true
die "dockerd did not answer within ${WAIT_S}s (log: $LOG)"
