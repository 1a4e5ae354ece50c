#!/usr/bin/env bash
# PERFORMANCE.md's GitRepository first fetch: a repository of 5,000 files over git's own
# http-backend, fetched by the reconciler's steps (refs, resolve, clone depth 1, archive, commit)
# beside `git clone --depth 1` of the same URL in the same run (BenchmarkFirstClone in
# internal/controller/gitrepository). Prints the times and the ratio (goal: <= 1.2x git's).
#   hack/bench/git/git.sh [count]
set -euo pipefail
cd "$(dirname "$0")/../../.."
count=${1:-3}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other load inflates every figure)"
go test -run '^$' -bench 'BenchmarkFirstClone$' -benchtime 5x -count "$count" ./internal/controller/gitrepository/ |
awk '
/^BenchmarkFirstClone\// {
	name = $1; sub(/^BenchmarkFirstClone\//, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") { ns[name] += $i; n[name]++ }
}
END {
	git = ns["git-clone-depth1"] / n["git-clone-depth1"]; az = ns["azimuth"] / n["azimuth"]
	printf "first fetch of 5,000 files   git clone --depth 1: %.0f ms   Azimuth: %.0f ms   %.2fx git'"'"'s time (goal <= 1.2x)\n", git / 1e6, az / 1e6, az / git
}'
