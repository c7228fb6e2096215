#!/usr/bin/env bash
# Installs the real tools of the cluster test into $TOOLS (default
# .cache/tools at the repository's root), one after another (the machines
# this runs on have 2 cores): kube-apiserver built from the module proxy,
# Helm 3 and Helm 4 with go install, and Debian's etcd-server with apt-get
# (only when etcd is missing and apt-get can run as root). A tool already
# present is kept. Usage: install-tools.sh [kube-apiserver] [helm3] [helm4] [etcd]
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${TOOLS:-$root/.cache/tools}
KUBE_VERSION=${KUBE_VERSION:-v1.36.3}
HELM3_VERSION=${HELM3_VERSION:-v3.22.0}
HELM4_VERSION=${HELM4_VERSION:-v4.3.2}
mkdir -p "$TOOLS"

log() { echo "install-tools: $*" >&2; }

# kube-apiserver: k8s.io/kubernetes is not meant to be a dependency; its
# go.mod points every staging module (k8s.io/api, k8s.io/apiserver, ...) at
# ./staging/src, which does not exist in the module zip. A build module of
# our own replaces each of them with the published v0.x.y of the same
# release (v1.36.3 -> v0.36.3).
kube_apiserver() {
  [ -x "$TOOLS/kube-apiserver" ] && return
  local staging=${KUBE_VERSION/#v1./v0.}
  local build=$TOOLS/kube-build
  log "building kube-apiserver $KUBE_VERSION (about 7 minutes cold)"
  local start=$SECONDS
  rm -rf "$build" && mkdir -p "$build"
  (
    cd "$build"
    go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null
    local mod
    mod=$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBE_VERSION.mod
    {
      echo "module kube-build"
      echo "go $(go env GOVERSION | sed 's/^go//')"
      echo "replace ("
      sed -n "s#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*#\t\1 => \1 $staging#p" "$mod"
      echo ")"
    } > go.mod
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION"
    go build -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION" \
      -o "$TOOLS/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$TOOLS/kube-apiserver.tmp" "$TOOLS/kube-apiserver"
  log "kube-apiserver built in $((SECONDS - start)) s"
}

helm_major() { # $1: 3 or 4, $2: version
  local dir=$TOOLS/helm$1
  [ -x "$dir/helm" ] && return
  log "building Helm $2 (about 6 minutes cold)"
  local start=$SECONDS
  GOBIN=$dir go install "helm.sh/helm/v$1/cmd/helm@$2"
  log "Helm $2 built in $((SECONDS - start)) s"
}

etcd_server() {
  command -v etcd >/dev/null && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "etcd is missing and cannot be installed here: install etcd (Debian: apt-get install etcd-server)"
    # Under CI a missing tool is a failure; elsewhere the tests that need
    # etcd skip and say why.
    [ -z "${CI:-}" ]
    return
  fi
  log "installing etcd-server with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server >/dev/null
  # Debian's package may start a system etcd on the default ports; the test
  # runs its own on other loopback ports and needs none.
}

[ $# -gt 0 ] || set -- etcd kube-apiserver helm3 helm4
for tool in "$@"; do
  case $tool in
    kube-apiserver) kube_apiserver ;;
    helm3) helm_major 3 "$HELM3_VERSION" ;;
    helm4) helm_major 4 "$HELM4_VERSION" ;;
    etcd) etcd_server ;;
    *) log "unknown tool $tool"; exit 2 ;;
  esac
done
