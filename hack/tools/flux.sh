#!/usr/bin/env bash
# Builds the flux CLI pinned by a Go module under hack/tools (flux/ or flux26/) into OUT.
#
#   hack/tools/flux.sh hack/tools/flux bin/flux
#
# `go install github.com/fluxcd/flux2/v2/cmd/flux@VERSION` is refused (flux2's go.mod has a
# replace directive), so the module named here requires flux2 at the pinned version and copies its
# replace directives. One more step is needed: cmd/flux embeds manifests/*.yaml, which Flux's
# release generates (kustomize, from the network) and the module zip does not hold. Those
# manifests only serve `flux install` and `flux bootstrap`, which Azimuth's tests do not run, so
# the build uses a copy of flux2's module source with one placeholder manifest; the copy replaces
# flux2 in a temporary copy of the module's go.mod, and every other module comes, checked against
# go.sum, from the Go module proxy.
set -euo pipefail

mod=$(cd "$1" && pwd)
out=$(realpath -m "$2")
cd "$mod"
GO=${GO:-go}
$GO mod download github.com/fluxcd/flux2/v2
src=$($GO list -m -f '{{.Dir}}' github.com/fluxcd/flux2/v2)
version=$($GO list -m -f '{{.Version}}' github.com/fluxcd/flux2/v2)

work=$(mktemp -d "${TMPDIR:-/tmp}/azimuth-flux-build-XXXXXX")
trap 'chmod -R u+w "$work" && rm -rf "$work"' EXIT
cp -R "$src" "$work/flux2"
chmod -R u+w "$work/flux2"
mkdir -p "$work/flux2/cmd/flux/manifests"
cat >"$work/flux2/cmd/flux/manifests/placeholder.yaml" <<'EOF'
# Built by Azimuth's hack/tools/flux.sh without Flux's controller manifests:
# `flux install` and `flux bootstrap` do not work with this binary.
EOF
cp go.mod "$work/go.mod"
cp go.sum "$work/go.sum"
$GO mod edit -replace "github.com/fluxcd/flux2/v2=$work/flux2" "$work/go.mod"

$GO build -modfile "$work/go.mod" \
	-ldflags "-s -w -X main.VERSION=${version#v}" \
	-o "$out" github.com/fluxcd/flux2/v2/cmd/flux
