#!/usr/bin/env bash
# Builds the small in-memory OCI registry of go-containerregistry (cmd/registry) into .tools/bin/oci-registry, for
# test/e2e/docker-registry.test.ts (`chaoslab images push` against a real registry). From the Go module proxy;
# nothing prebuilt is downloaded. Builds only when it is missing or another version. Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'build-registry: %s\n' "$*" >&2; exit 3; }
VERSION=v0.22.1
out=.tools/bin/oci-registry
command -v go >/dev/null || die "Go is needed to build the test registry (go-containerregistry ${VERSION}): apt-get install golang, or install Go"
if [ ! -x "$out" ] || ! go version -m "$out" 2>/dev/null | grep -q "github.com/google/go-containerregistry[[:space:]]*${VERSION}"; then
  say "building the test registry (go-containerregistry ${VERSION} cmd/registry)"
  mkdir -p .tools/bin
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 go install -trimpath "github.com/google/go-containerregistry/cmd/registry@${VERSION}" \
    || die "go install of go-containerregistry ${VERSION} cmd/registry failed (see above)"
  mv "$tmp/registry" "$out"   # go install names the binary after its folder: registry
fi
say "test registry: $out"
