#!/usr/bin/env bash
# Builds the kube-apiserver that hack/tools/go.mod pins into OUT, stamped with its real version
# as Kubernetes' own build does (hack/lib/version.sh in k8s.io/kubernetes): without the stamp it
# reports v0.0.0-master, `kubectl version` exits 1 and `flux check` cannot tell the version.
#
#   hack/tools/kube-apiserver.sh bin/kube-apiserver
#
# Everything stamped comes from go.mod, so a new pin brings its own version: the build date is
# the release's commit time from the Go module proxy (reproducible), and the tree is the
# released one (clean). The module proxy does not carry the git commit, so gitCommit is empty.
set -euo pipefail

out=$(realpath -m "$1")
cd "$(dirname "$0")"
GO=${GO:-go}

version=$($GO list -m -f '{{.Version}}' k8s.io/kubernetes)
date=$($GO list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
if [[ ! $version =~ ^v([0-9]+)\.([0-9]+)\. ]]; then
	echo "kube-apiserver.sh: cannot read major and minor from k8s.io/kubernetes $version" >&2
	exit 1
fi
major=${BASH_REMATCH[1]}
minor=${BASH_REMATCH[2]}

ldflags=()
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
	ldflags+=(
		"-X '$pkg.gitVersion=$version'"
		"-X '$pkg.gitMajor=$major'"
		"-X '$pkg.gitMinor=$minor'"
		"-X '$pkg.gitTreeState=clean'"
		"-X '$pkg.gitCommit='"
		"-X '$pkg.buildDate=$date'"
	)
done

$GO build -ldflags "${ldflags[*]}" -o "$out" k8s.io/kubernetes/cmd/kube-apiserver
