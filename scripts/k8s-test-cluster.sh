#!/usr/bin/env bash
# A real single-node Kubernetes 1.34.4 on this machine, for the Kubernetes runtime's tests (and contributors):
#   bash scripts/k8s-test-cluster.sh prepare  installs what is missing and readies the binary; starts nothing
#   bash scripts/k8s-test-cluster.sh up       starts it (or finds it running); prints the kubeconfig path LAST
#   bash scripts/k8s-test-cluster.sh images   imports the lab's Docker images into its containerd again
#   bash scripts/k8s-test-cluster.sh down     stops it, removes its state, restores the host
# etcd, kube-apiserver, controller-manager, scheduler and kubelet run as ordinary processes of one multi-call
# binary (the cached one when its SHA-256 matches, else built from the Go module proxy: 5-7 min, 2.3 GB RAM),
# with a private containerd (Debian's containerd, runc, containernetworking-plugins). No kube-proxy, no DNS: pods
# reach each other by pod IP. The settings and the five fixes this sandbox needs are explained in
# docs/kubernetes-test-cluster facts (restrict_oom_score_adj, node IP on lo, InternalIP, CNI firewall, client 1.4).
# Idempotent; ends only the processes it started (pid files in the state folder).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'k8s-test-cluster: %s\n' "$*" >&2; exit 3; }

K8S_VERSION=v1.34.4
# The hashes of the measured build (compressed archive, binary); the cache is trusted only when they match.
ZST_SHA256=2c7fa63f465e59dba525ad03f83a173c9377f86ff478ea38baabfdfdaaeee75d
BIN_SHA256=37ebd05510a435e733f8718042adc05e8e71c88f92b92ebb9125c7a039a2e47d
STATE=${CHAOSLAB_K8S_STATE:-/tmp/chaoslab-k8s}
CACHE=${CHAOSLAB_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chaoslab/k8s}
NODE_NAME=chaoslab-test-node
NODE_IP=${CHAOSLAB_K8S_NODE_IP:-10.217.0.1}   # a /32 on lo (the kernel has no dummy module)
POD_CIDR=10.218.0.0/24
SERVICE_CIDR=10.219.0.0/24
BRIDGE=chaoslab-k8s0
API_PORT=${CHAOSLAB_K8S_API_PORT:-16443}
ETCD_PORT=${CHAOSLAB_K8S_ETCD_PORT:-12379}
PAUSE_IMAGE=chaoslab.local/pause:1
SYSCTLS="vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward"
COMPONENTS="etcd kube-apiserver kube-controller-manager kube-scheduler kubelet"
BIN=$CACHE/hyperkube-$K8S_VERSION
KUBECONFIG_FILE=$STATE/admin.kubeconfig
CTR() { ctr --address "$STATE/containerd/containerd.sock" -n k8s.io "$@"; }
# The binary dispatches on the name it is called by (argv[0]): one symlink per component.
KBIN=$CACHE/bin
# Its discovery cache in the state folder, not in ~/.kube.
kubectl() { "$KBIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$STATE/kube-cache" "$@"; }

# (Never `cmd | grep -q` under pipefail: grep's early exit fails the pipe with SIGPIPE.)
has_node_ip() { [[ "$(ip -o -4 addr show dev lo)" == *" $NODE_IP/32 "* ]]; }

alive() { [ -f "$STATE/pids/$1" ] && kill -0 "$(cat "$STATE/pids/$1")" 2>/dev/null; }

# --- host packages and the binary

install_packages() {
  local missing=()
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/firewall ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v zstd >/dev/null || missing+=(zstd)
  command -v openssl >/dev/null || missing+=(openssl)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || die "missing: ${missing[*]}; install them (Debian: apt-get install --no-install-recommends ${missing[*]})"
  say "installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

link_components() {
  mkdir -p "$KBIN"
  local c
  for c in $COMPONENTS kubectl; do ln -sfn "$BIN" "$KBIN/$c"; done
}

ensure_binary() {
  [ -x "$BIN" ] && [ "$(sha "$BIN")" = "$BIN_SHA256" ] && { link_components; return 0; }
  mkdir -p "$CACHE"
  local dir archive
  for dir in ${CHAOSLAB_K8S_PREBUILT:-} "$root/../shared/k8s" "$root/../../shared/k8s" /work/shared/k8s; do
    archive=$dir/hyperkube-$K8S_VERSION-linux-amd64.zst
    [ -f "$archive" ] || continue
    if [ "$(sha "$archive")" != "$ZST_SHA256" ]; then say "ignoring $archive: its SHA-256 does not match"; continue; fi
    zstd -q -d -f "$archive" -o "$BIN.tmp"
    if [ "$(sha "$BIN.tmp")" = "$BIN_SHA256" ]; then
      chmod 755 "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
      say "kubernetes $K8S_VERSION: cached binary $archive (hash checked)"
      link_components
      return 0
    fi
    rm -f "$BIN.tmp"
    say "ignoring $archive: the binary's SHA-256 does not match"
  done
  command -v go >/dev/null || die "no cached Kubernetes binary and no Go to build one (apt-get install golang, or set CHAOSLAB_K8S_PREBUILT to the folder of hyperkube-$K8S_VERSION-linux-amd64.zst)"
  say "building kubernetes $K8S_VERSION from the Go module proxy (5-7 min on 2 cores, 2.3 GB RAM, 4 GB of caches)"
  local src
  src=$(mktemp -d)
  cp scripts/k8s-hyperkube/go.mod scripts/k8s-hyperkube/main.go "$src/"
  (cd "$src" && go mod tidy && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" -o "$BIN.tmp" .) \
    || { rm -rf "$src"; die "building Kubernetes failed (see above)"; }
  rm -rf "$src"
  chmod 755 "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
  link_components
  say "built $BIN (sha256 $(sha "$BIN"); the cached build's is $BIN_SHA256)"
}

# --- certificates, tokens, configs

write_pki() {
  local p=$STATE/pki
  [ -f "$p/done" ] && return 0
  mkdir -p "$p"
  (
    cd "$p"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=chaoslab-test-ca 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default\n' "$NODE_IP" "${SERVICE_CIDR%.0/24}.1" >san.ext
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out apiserver.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout kubelet-client.key -out kubelet-client.csr -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" 2>/dev/null
    openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out kubelet-client.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    local admin kubelet
    admin=$(openssl rand -hex 16)
    kubelet=$(openssl rand -hex 16)
    printf '%s,admin,admin,system:masters\n%s,system:node:%s,kubelet,system:nodes\n' "$admin" "$kubelet" "$NODE_NAME" >tokens.csv
    chmod 600 ./*.key tokens.csv
    echo "$admin" >admin.token
    echo "$kubelet" >kubelet.token
    touch done
  )
}

kubeconfig() { # file user token
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: chaoslab-test
  cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: "$STATE/pki/ca.crt"}
users:
- name: $2
  user: {token: "$3"}
contexts:
- name: chaoslab-test
  context: {cluster: chaoslab-test, user: $2}
current-context: chaoslab-test
EOF
  chmod 600 "$1"
}

write_configs() {
  mkdir -p "$STATE"/{containerd,cni/net.d,cni/ipam,kubelet,pods-logs,logs,pids}
  kubeconfig "$KUBECONFIG_FILE" admin "$(cat "$STATE/pki/admin.token")"
  kubeconfig "$STATE/kubelet.kubeconfig" "system:node:$NODE_NAME" "$(cat "$STATE/pki/kubelet.token")"
  cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The sandbox lacks CAP_SYS_RESOURCE: runc fails a pod sandbox whose oom_score_adj is lowered.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  # bridge without masquerade and with only the pod range's own (connected) route: nothing in a pod can leave the
  # machine, and pod-to-pod traffic stays on the bridge (a route via the gateway made it depend on the gateway's MAC).
  # firewall: Docker may have set the FORWARD policy to DROP; this plugin admits the pods' traffic.
  cat >"$STATE/cni/net.d/10-chaoslab.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "chaoslab-k8s",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$STATE/cni/ipam", "ranges": [[{ "subnet": "$POD_CIDR" }]] }
    },
    { "type": "firewall" }
  ]
}
EOF
  cat >"$STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 0
cgroupDriver: cgroupfs
failSwapOn: false
podCIDR: $POD_CIDR
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
podLogsDir: $STATE/pods-logs
evictionHard: {memory.available: 100Mi}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
EOF
}

# --- processes

start() { # name command...
  local name=$1
  shift
  alive "$name" && return 0
  # setsid: the component outlives this script; its pid file is how `down` finds it (and only it).
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name"
}

wait_for() { # what seconds command...
  local what=$1 seconds=$2
  shift 2
  local i
  for i in $(seq 1 $((seconds * 10))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "$what did not come up within ${seconds}s (logs: $STATE/logs/)"
}

save_host() {
  [ -f "$STATE/host.saved" ] && return 0
  local s
  for s in $SYSCTLS; do echo "$s=$(sysctl -n "$s")"; done >"$STATE/host.sysctl"
  iptables-save 2>/dev/null | grep -E '^:' | cut -d' ' -f1 | sort -u >"$STATE/host.chains" || true
  ip6tables-save 2>/dev/null | grep -E '^:' | cut -d' ' -f1 | sort -u >"$STATE/host.chains6" || true
  ls /var/run/netns 2>/dev/null >"$STATE/host.netns" || true
  touch "$STATE/host.saved"
}

build_pause() {
  local dir=$STATE/pause-image
  rm -rf "$dir" && mkdir -p "$dir/layer"
  command -v go >/dev/null || die "Go is needed to build the pause image (apt-get install golang)"
  (cd scripts/k8s-pause && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$dir/layer/pause" .)
  tar -C "$dir/layer" -cf "$dir/layer.tar" pause
  local diff config
  diff=$(sha "$dir/layer.tar")
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" >"$dir/config.json"
  config=$(sha "$dir/config.json")
  mkdir -p "$dir/archive/$diff"
  mv "$dir/config.json" "$dir/archive/$config.json"
  mv "$dir/layer.tar" "$dir/archive/$diff/layer.tar"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config" "$PAUSE_IMAGE" "$diff" >"$dir/archive/manifest.json"
  tar -C "$dir/archive" -cf "$dir/pause.tar" .
  CTR images import "$dir/pause.tar" >/dev/null
}

import_lab_images() {
  command -v docker >/dev/null && docker version >/dev/null 2>&1 || { say "no Docker engine: the lab's images are not imported (build them, then: $0 images)"; return 0; }
  local images=() i
  for i in chaoslab-toys chaoslab-toxiproxy chaoslab-prometheus; do
    docker image inspect "$i:latest" >/dev/null 2>&1 && images+=("$i:latest")
  done
  [ ${#images[@]} -eq 0 ] && { say "no chaoslab images in Docker yet (npx chaoslab images build), then: $0 images"; return 0; }
  docker save "${images[@]}" | CTR images import - >/dev/null
  say "imported ${images[*]}"
}

up() {
  [ "$(id -u)" = 0 ] || die "the test cluster needs root (containerd, the kubelet, CNI)"
  install_packages
  ensure_binary
  mkdir -p "$STATE/pids"
  save_host
  write_pki
  write_configs
  has_node_ip || ip addr add "$NODE_IP/32" dev lo
  # The pod bridge now rather than at the first pod: the lab listens on its gateway address for Prometheus's
  # scrapes of the lab's own metrics (the CNI bridge plugin adopts it).
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    # A MAC of its own: a bridge without one takes its lowest port's, so it changed whenever a pod's veth came or
    # went, and every pod's ARP entry for the gateway went stale (their traffic stopped until it was re-learnt).
    ip link set "$BRIDGE" address 02:42:0a:da:00:01
    ip addr add "${POD_CIDR%.0/24}.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  # Pod-to-pod traffic in the pod range, admitted once in the firewall plugin's own admin chain, rather than only
  # by its per-pod rules, which come and go with each pod's setup and teardown (Docker's FORWARD DROP meets any
  # gap). CNI-ADMIN is made here, so `down` removes it.
  iptables -N CNI-ADMIN 2>/dev/null || true
  iptables -C CNI-ADMIN -s "$POD_CIDR" -d "$POD_CIDR" -j ACCEPT 2>/dev/null || iptables -A CNI-ADMIN -s "$POD_CIDR" -d "$POD_CIDR" -j ACCEPT
  start containerd containerd --config "$STATE/containerd/config.toml"
  wait_for containerd 20 CTR version
  [[ $'\n'"$(CTR images ls -q)"$'\n' == *$'\n'"$PAUSE_IMAGE"$'\n'* ]] || build_pause
  start etcd "$KBIN/etcd" --name chaoslab --data-dir "$STATE/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
    --initial-cluster chaoslab=http://127.0.0.1:12380 --listen-metrics-urls ''
  start kube-apiserver "$KBIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --secure-port "$API_PORT" --advertise-address "$NODE_IP" \
    --tls-cert-file "$STATE/pki/apiserver.crt" --tls-private-key-file "$STATE/pki/apiserver.key" \
    --client-ca-file "$STATE/pki/ca.crt" --token-auth-file "$STATE/pki/tokens.csv" \
    --authorization-mode Node,RBAC --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-key-file "$STATE/pki/sa.pub" --service-account-signing-key-file "$STATE/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --kubelet-client-certificate "$STATE/pki/kubelet-client.crt" --kubelet-client-key "$STATE/pki/kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP --allow-privileged=false --enable-priority-and-fairness=false
  wait_for kube-apiserver 60 kubectl get --raw /readyz
  start kube-controller-manager "$KBIN/kube-controller-manager" --kubeconfig "$KUBECONFIG_FILE" \
    --leader-elect=false --secure-port=0 --service-account-private-key-file "$STATE/pki/sa.key" \
    --root-ca-file "$STATE/pki/ca.crt" --use-service-account-credentials=false --controllers '*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle'
  start kube-scheduler "$KBIN/kube-scheduler" --kubeconfig "$KUBECONFIG_FILE" --leader-elect=false --secure-port=0
  start kubelet "$KBIN/kubelet" --kubeconfig "$STATE/kubelet.kubeconfig" --config "$STATE/kubelet/config.yaml" \
    --root-dir "$STATE/kubelet/root" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --cert-dir "$STATE/kubelet/pki"
  wait_for "node $NODE_NAME Ready" 60 sh -c "'$KBIN/kubectl' --kubeconfig '$KUBECONFIG_FILE' --cache-dir '$STATE/kube-cache' get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  # Without nodeipam the node has no spec.podCIDR; the lab reads it to find the pod network's gateway.
  [ -n "$(kubectl get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}')" ] ||
    kubectl patch node "$NODE_NAME" --type merge -p "{\"spec\":{\"podCIDR\":\"$POD_CIDR\",\"podCIDRs\":[\"$POD_CIDR\"]}}" >/dev/null
  import_lab_images
  say "test cluster up: kubernetes $K8S_VERSION, node $NODE_NAME ($NODE_IP), state $STATE"
  echo "$KUBECONFIG_FILE"
}

stop_pids() { # names... (all at once: TERM; KILL after 15 s)
  local name pid pids=() deadline
  for name in "$@"; do
    [ -f "$STATE/pids/$name" ] || continue
    pid=$(cat "$STATE/pids/$name")
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  deadline=$((SECONDS + 15))
  for pid in ${pids[@]+"${pids[@]}"}; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid ignored SIGTERM for 15 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  done
  for name in "$@"; do rm -f "$STATE/pids/$name"; done
}

down() {
  [ -d "$STATE" ] || { say "test cluster: nothing to stop (no $STATE)"; return 0; }
  # Pods first, while the kubelet runs: it tears their networks down through CNI.
  if alive kube-apiserver && alive kubelet && [ -x "$KBIN/kubectl" ]; then
    kubectl delete namespaces -l chaoslab.run --wait=false >/dev/null 2>&1 || true
    kubectl delete pods --all --all-namespaces --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
      [ -z "$(CTR tasks ls -q 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  stop_pids kubelet kube-scheduler kube-controller-manager
  stop_pids kube-apiserver
  stop_pids etcd
  # Whatever task is left (a pod the kubelet did not get to), then containerd; its shims exit with their tasks.
  if alive containerd; then
    local t
    for t in $(CTR tasks ls -q 2>/dev/null); do CTR tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 0.3
    for t in $(CTR tasks ls -q 2>/dev/null); do CTR tasks rm -f "$t" >/dev/null 2>&1 || true; done
    for t in $(CTR containers ls -q 2>/dev/null); do CTR containers rm "$t" >/dev/null 2>&1 || true; done
  fi
  stop_pids containerd
  # Shims of this containerd only (their -address is this state folder's socket).
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $STATE/containerd/containerd.sock" || true); do kill -KILL "$pid" 2>/dev/null || true; done
  # Pod network namespaces made during this cluster's life, the bridge, and the CNI/kubelet iptables chains.
  if [ -f "$STATE/host.netns" ]; then
    local ns
    for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-' || true); do
      grep -qx "$ns" "$STATE/host.netns" || { umount "/var/run/netns/$ns" 2>/dev/null || true; rm -f "/var/run/netns/$ns"; }
    done
  fi
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE" || true
  restore_iptables
  # Cgroups the kubelet made (cgroup v1: one kubepods tree per controller), deepest first.
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  if [ -f "$STATE/host.sysctl" ]; then
    local line key value
    while IFS= read -r line; do
      key=${line%%=*} value=${line#*=}
      # Docker needs forwarding: it stays on while a Docker engine runs.
      [ "$key" = net.ipv4.ip_forward ] && pgrep -x dockerd >/dev/null && continue
      [ "$(sysctl -n "$key")" = "$value" ] || sysctl -q -w "$key=$value" || true
    done <"$STATE/host.sysctl"
  fi
  if has_node_ip; then ip addr del "$NODE_IP/32" dev lo; fi
  # Mounts under the state folder (pod volumes, overlay snapshots), then the folder itself.
  local m
  for m in $(awk -v s="$STATE/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$STATE"
  say "test cluster down; host restored"
}

restore_iptables() {
  restore_chains iptables "$STATE/host.chains"
  # The kubelet makes its canary chains for IPv6 too.
  restore_chains ip6tables "$STATE/host.chains6"
}

restore_chains() { # iptables|ip6tables saved-chains-file
  local ipt=$1 saved=$2 table chain new
  [ -f "$saved" ] && command -v "$ipt" >/dev/null || return 0
  for table in filter nat mangle; do
    # Rules that jump to a chain this cluster made, then the chains (flushed, then deleted).
    new=$("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | { grep -E '^(CNI-|KUBE-)' || true; } | while read -r chain; do grep -qx ":$chain" "$saved" || echo "$chain"; done)
    [ -z "$new" ] && continue
    for chain in $new; do
      { "$ipt" -t "$table" -S 2>/dev/null | grep -E -- "^-A .*-j $chain( |\$)" || true; } | while read -r rule; do
        # eval: the rule as iptables -S quotes it (comments with spaces).
        eval "$ipt -t $table ${rule/-A/-D}" 2>/dev/null || true
      done
    done
    for chain in $new; do "$ipt" -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in $new; do "$ipt" -t "$table" -X "$chain" 2>/dev/null || true; done
  done
}

case "${1:-}" in
  # The slow part of `up` once (packages; the binary: hash check, or the Go build), nothing started: for CI.
  prepare) install_packages && ensure_binary ;;
  up) up ;;
  down) down ;;
  images) import_lab_images ;;
  kubeconfig) [ -f "$KUBECONFIG_FILE" ] && echo "$KUBECONFIG_FILE" || die "not up" ;;
  *) echo "usage: $0 prepare|up|down|images|kubeconfig" >&2; exit 2 ;;
esac
