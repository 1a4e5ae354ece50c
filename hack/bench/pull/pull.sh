#!/usr/bin/env bash
# The whole OCIRepository pull side by side with `crane pull`, in one test binary, from one
# registry (go-containerregistry's, blobs on disk, HTTP in the same process): BenchmarkPull in
# internal/controller/ocirepository. Prints each case's time and the ratio to crane's in the
# same run (crane's time / Azimuth's, higher is better; PERFORMANCE.md's goal: >= 0.9 for copy
# and for extract with nothing filtered, >= 0.5 with ignore rules), twice: from the registry on
# loopback (memory's bandwidth: only the CPU differs) and from the same registry sending at
# most 125 MB/s (BenchmarkPullLink, a 1 Gbit/s link: the network sets the pace). With
# AZIMUTH_BENCH_LARGE=1 it also pulls a 1 GiB layer and prints the peak growth of the heap and
# of the resident memory (RSS) while pulling. On loopback it also times decompressing the layer alone, from memory, on one core
# ("inflate"): extract decompresses the layer as one serial stream, so that row's ratio is the
# most any extract could reach on this machine's cores. Other load on the machine inflates every time, the CPU-bound ones most: compare ratios
# within one run. The CPU time per pull (the process's, the registry's share included) and its
# ratio to crane's hardly move with other load: on a busy machine, read those.
#   hack/bench/pull/pull.sh [count]
set -euo pipefail
cd "$(dirname "$0")/../../.."
count=${1:-3}
bench='BenchmarkPull(Link)?$'
[ -n "${AZIMUTH_BENCH_LARGE:-}" ] && bench='BenchmarkPull(Link|Large)?$'

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other load inflates every figure)"
go test -run '^$' -bench "$bench" -benchtime 5x -count "$count" ./internal/controller/ocirepository/ | tee "$out" | grep -E '^(FAIL|panic)' || true

awk '
/^BenchmarkPull(Link)?\// {
	split($1, part, "/"); link = (part[1] == "BenchmarkPullLink") ? "125 MB/s" : "loopback"
	size = part[2]; op = part[3]; sub(/-[0-9]+$/, "", op)
	for (i = 2; i <= NF; i++) {
		if ($(i+1) == "ns/op") { ns[link, size, op] += $i; n[link, size, op]++ }
		if ($(i+1) == "cpu-ms/op") cpu[link, size, op] += $i
	}
	if (!((link, size) in seen)) { seen[link, size] = 1; rows[++nrows] = link SUBSEP size }
}
/^BenchmarkPullLarge\// {
	op = $1; sub(/^BenchmarkPullLarge\//, "", op); sub(/-[0-9]+$/, "", op)
	for (i = 2; i <= NF; i++) {
		if ($(i+1) == "MB/s") large_mbs[op] = $i
		if ($(i+1) == "peak-heap-growth-MiB") large_heap[op] = $i
		if ($(i+1) == "peak-rss-growth-MiB") large_rss[op] = $i
	}
}
END {
	printf "%-9s %-8s %-15s %10s %9s %12s %10s  %s\n", "registry", "layer", "operation", "ms/pull", "vs crane", "cpu-ms/pull", "vs crane", "goal"
	split("crane inflate copy extract extract-ignore", ops, " ")
	for (r = 1; r <= nrows; r++) {
		split(rows[r], key, SUBSEP); link = key[1]; size = key[2]
		crane = ns[link, size, "crane"] / n[link, size, "crane"]
		crane_cpu = cpu[link, size, "crane"] / n[link, size, "crane"]
		for (o = 1; o <= 5; o++) {
			op = ops[o]
			if (!n[link, size, op]) continue
			avg = ns[link, size, op] / n[link, size, op]
			avg_cpu = cpu[link, size, op] / n[link, size, op]
			ratio = (op == "crane") ? "" : sprintf("%.2fx", crane / avg)
			ratio_cpu = (op == "crane" || avg_cpu == 0) ? "" : sprintf("%.2fx", crane_cpu / avg_cpu)
			goal = (op == "crane") ? "" : (op == "extract-ignore" ? ">= 0.5x" : ">= 0.9x")
			if (op == "inflate") goal = "decompression alone: the ceiling of extract"
			printf "%-9s %-8s %-15s %10.2f %9s %12.2f %10s  %s\n", link, size, op, avg / 1e6, ratio, avg_cpu, ratio_cpu, goal
		}
	}
	for (op in large_heap) printf "\n1 GiB layer, %s: %s MB/s; while pulling, the heap grew by %s MiB at most, the RSS by %s MiB\n", op, large_mbs[op], large_heap[op], large_rss[op]
}' "$out"
