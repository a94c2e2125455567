#!/usr/bin/env bash
# Installs the real clients sigil is tested against (../shared/PEERS.md), pinned, built from their own registries
# (the Go module proxy, PyPI) and cached per tool and version, so a reused machine installs in seconds.
#
#   scripts/peers.sh            install every peer (in parallel), print how long each took
#   scripts/peers.sh cosign3    install one (names: cosign3 cosign2 rekor-cli crane sigstore-go sigstore-python
#                               containers-policy oci-conformance timestamp-server)
#   scripts/peers.sh --path     print the directory the binaries are in (tests read it through test/peers.ts)
#
# The cache lives in $SIGIL_PEERS_DIR (default ~/.cache/sigil-peers): bin/<tool>-<version> and one Go module and
# build cache shared by the builds. A failed install prints the exact command and its error and makes the script
# exit non-zero; nothing is skipped silently.
set -uo pipefail

PEERS_DIR="${SIGIL_PEERS_DIR:-$HOME/.cache/sigil-peers}"
BIN="$PEERS_DIR/bin"
LOGS="$PEERS_DIR/logs"

# name | version | Go package or PyPI spec | go build tags
# skopeo is not here: the Go module proxy answers 403 "not available" for every github.com/containers/skopeo
# version (v1.14-v1.22 tried), and Debian's skopeo 1.9 is built with sigstore disabled. containers-policy stands in
# for `skopeo copy`: test/peers/containers-policy, a few lines over containers/image (go.podman.io/image/v5, whose
# v5.42 needs Go 1.26) built from its checked-in go.mod/go.sum; its version is the containers/image version there
# plus a hash of go.mod, go.sum and main.go, so any edit rebuilds it. openpgp: no gpgme (cgo) for simple signing.
# rekor-cli v1.5.5 and later need Go 1.27 (and so do sigstore's timestamp-server v2.1.4 and later: v2.1.3 it is); v1.5.4 is the newest that builds with this machine's Go 1.26.
# oci-conformance is the OCI distribution-spec conformance suite, a Go test package: its test binary (`go test -c`
# in the module cache) is the suite. The module has no tagged versions (the v1.1.x tags are on the root module,
# whose zip leaves the nested conformance/ out) and the proxy serves only this pseudo-version of main, the
# rewritten suite; it tests spec v1.1 by default (OCI_VERSION=1.1) and still reads the v1.1.x variables.
PEERS=(
  "cosign3|v3.1.2|github.com/sigstore/cosign/v3/cmd/cosign|"
  "cosign2|v2.6.4|github.com/sigstore/cosign/v2/cmd/cosign|"
  "rekor-cli|v1.5.4|github.com/sigstore/rekor/cmd/rekor-cli|"
  "crane|v0.21.9|github.com/google/go-containerregistry/cmd/crane|"
  "sigstore-go|v1.2.1|github.com/sigstore/sigstore-go/test/conformance|"
  "sigstore-python|4.5.1|sigstore|"
  "containers-policy|local|test/peers/containers-policy|containers_image_openpgp"
  "timestamp-server|v2.1.3|github.com/sigstore/timestamp-authority/v2/cmd/timestamp-server|"
  "oci-conformance|v0.0.0-20260831232431-97274622c111|github.com/opencontainers/distribution-spec/conformance|"
)

if [ "${1:-}" = "--path" ]; then echo "$BIN"; exit 0; fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A peer built from a directory of this repository: <module version it wraps>-<hash of its sources>.
local_version() {
  local dir="$ROOT/$1" image
  image=$(awk '{ for (i = 1; i < NF; i++) if ($i == "go.podman.io/image/v5") print $(i + 1) }' "$dir/go.mod")
  echo "${image:-local}-$(cat "$dir/go.mod" "$dir/go.sum" "$dir"/*.go | sha256sum | cut -c1-12)"
}
mkdir -p "$BIN" "$LOGS"

# Go from /usr/local/go (1.26) wins over Debian's golang-go (1.19), which is too old for these modules.
[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
export GOMODCACHE="$PEERS_DIR/gomod" GOCACHE="$PEERS_DIR/gobuild" GOTOOLCHAIN=local CGO_ENABLED=0
# Builds share two cores with each other; a peer build need not be fast, only cached.
export GOFLAGS="-trimpath"

# bin/<name> points at the cached version; `cosign` is cosign v3, the one the tutorial installs.
link_peer() {
  ln -sfn "$1-$2" "$BIN/$1"
  if [ "$1" = cosign3 ]; then ln -sfn cosign3 "$BIN/cosign"; fi
}

install_one() {
  local name=$1 version=$2 pkg=$3 tags=$4
  local out="$BIN/$name-$version" log="$LOGS/$name-$version.log" start=$SECONDS
  if [ -x "$out" ]; then
    link_peer "$name" "$version"
    echo "peer $name $version: cached"
    return 0
  fi
  # Each way of building leaves one file in $tmp (for sigstore-python, a link to its venv's command); a failure
  # prints the exact command and the end of its log.
  local cmd tmp
  tmp=$(mktemp -d "$PEERS_DIR/.build.XXXXXX")
  if [ "$name" = "sigstore-python" ]; then
    local venv="$PEERS_DIR/venv-sigstore-python-$version"
    cmd="python3 -m venv $venv && $venv/bin/pip install --quiet sigstore==$version && ln -s $venv/bin/sigstore $tmp/$name"
  elif [ "$name" = "oci-conformance" ]; then
    cmd="go mod download $pkg@$version && cd $GOMODCACHE/$pkg@$version && go test -c -o $tmp/$name ."
  elif [[ "$pkg" == test/* ]]; then
    cmd="cd $ROOT/$pkg && go build -mod=readonly ${tags:+-tags \"$tags\"} -o $tmp/$name ."
  else
    cmd="GOBIN=$tmp go install ${tags:+-tags \"$tags\"} $pkg@$version"
  fi
  if bash -c "$cmd" >"$log" 2>&1; then
    mv "$tmp"/* "$out" && rmdir "$tmp"
  else
    rm -rf "$tmp"
    echo "peer $name $version: FAILED after $((SECONDS - start)) s: CGO_ENABLED=0 GOTOOLCHAIN=local $cmd" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  link_peer "$name" "$version"
  echo "peer $name $version: installed in $((SECONDS - start)) s"
}

wanted=("$@")
pids=()
names=()
for spec in "${PEERS[@]}"; do
  IFS='|' read -r name version pkg tags <<<"$spec"
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " =~ " $name " ]]; then continue; fi
  [ "$version" = "local" ] && version=$(local_version "$pkg")
  install_one "$name" "$version" "$pkg" "$tags" &
  pids+=($!)
  names+=("$name")
done
status=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { status=1; echo "peer ${names[$i]}: not installed" >&2; }
done
exit $status
