#!/usr/bin/env bash
# Builds the lab's Go checkers into .tools/bin with the Go toolchain that builds Toxiproxy (modules from the
# Go module proxy; nothing prebuilt is downloaded). Rebuilds only when a checker's source is newer. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'build-checkers: %s\n' "$*" >&2; exit 3; }
command -v go >/dev/null || die "Go is needed to build the linearizability checker (Porcupine): apt-get install golang, or install Go"
mkdir -p .tools/bin
out=.tools/bin/chaoslab-linearizability
src=checkers/linearizability
if [ ! -x "$out" ] || [ -n "$(find "$src" -newer "$out" -name '*.go' -o -newer "$out" -name go.mod -o -newer "$out" -name go.sum | head -1)" ]; then
  say "building the linearizability checker (Porcupine v1.3.1)"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "../../$out" .) || die "go build of $src failed (see above)"
fi
say "linearizability checker: $out"
