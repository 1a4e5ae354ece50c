#!/usr/bin/env bash
# The whole OCIRepository pull side by side with `crane pull`, in one test binary, from one
# registry (go-containerregistry's, blobs on disk, loopback HTTP): BenchmarkPull in
# internal/controller/ocirepository. Prints each case's throughput and the ratio to crane's in
# the same run (Azimuth / crane, higher is better; PERFORMANCE.md's goal: >= 0.9 for copy and
# for extract with nothing filtered, >= 0.5 with ignore rules). With AZIMUTH_BENCH_LARGE=1 it
# also pulls a 1 GiB layer and prints the peak growth of the heap while pulling.
#   hack/bench/pull/pull.sh [count]
set -euo pipefail
cd "$(dirname "$0")/../../.."
count=${1:-3}
bench='BenchmarkPull$'
[ -n "${AZIMUTH_BENCH_LARGE:-}" ] && bench='BenchmarkPull(Large)?$'

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other load inflates every figure)"
go test -run '^$' -bench "$bench" -benchtime 5x -count "$count" ./internal/controller/ocirepository/ | tee "$out" | grep -E '^(FAIL|panic)' || true

awk '
/^BenchmarkPull\// {
	split($1, part, "/"); size = part[2]; op = part[3]; sub(/-[0-9]+$/, "", op)
	for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") { ns[size, op] += $i; n[size, op]++ }
	if (!(size in seen)) { seen[size] = 1; sizes[++ns_count] = size }
}
/^BenchmarkPullLarge\// {
	op = $1; sub(/^BenchmarkPullLarge\//, "", op); sub(/-[0-9]+$/, "", op)
	for (i = 2; i <= NF; i++) {
		if ($(i+1) == "MB/s") large_mbs[op] = $i
		if ($(i+1) == "peak-heap-growth-MiB") large_heap[op] = $i
	}
}
END {
	printf "%-8s %-15s %12s %10s  %s\n", "layer", "operation", "ms/pull", "vs crane", "goal"
	split("crane copy extract extract-ignore", ops, " ")
	for (s = 1; s <= ns_count; s++) {
		size = sizes[s]
		crane = ns[size, "crane"] / n[size, "crane"]
		for (o = 1; o <= 4; o++) {
			op = ops[o]
			if (!n[size, op]) continue
			avg = ns[size, op] / n[size, op]
			ratio = (op == "crane") ? "" : sprintf("%.2fx", crane / avg)
			goal = (op == "crane") ? "" : (op == "extract-ignore" ? ">= 0.5x" : ">= 0.9x")
			printf "%-8s %-15s %12.2f %10s  %s\n", size, op, avg / 1e6, ratio, goal
		}
	}
	for (op in large_heap) printf "\n1 GiB layer, %s: %s MB/s, peak heap growth while pulling %s MiB\n", op, large_mbs[op], large_heap[op]
}' "$out"
