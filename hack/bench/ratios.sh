#!/usr/bin/env bash
# Runs the Go benchmarks behind PERFORMANCE.md's targets and prints each against the figure
# measured for Flux on this kind of machine. Noisy VMs vary by ±25%: read ratios, not digits.
#   hack/bench/ratios.sh [count]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-3}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'CacheHit|DistinctMisses' -benchmem -count "$count" ./internal/entra/ >>"$out"
go test -run '^$' -bench '^Benchmark(SemverOver|RegexExtractNumerical$|CaptureAll|Alphabetical$|Numerical$)' -benchmem -count "$count" ./internal/tags/ >>"$out"

# name, Flux's figure in ns/op, target ratio (Flux / Azimuth, higher is better)
awk '
BEGIN {
	ref["CacheHit"] = 210;                    want["CacheHit"] = "<= 100 ns, 0 allocs"
	ref["SemverOverSemverTags"] = 64e6;       want["SemverOverSemverTags"] = ">= 3x"
	ref["SemverOverMixedTags"] = 85e6;        want["SemverOverMixedTags"] = ">= 3x"
	ref["RegexExtractNumerical"] = 103e6;     want["RegexExtractNumerical"] = ">= 3x"
	ref["CaptureAllAlphabetical"] = 147e6;    want["CaptureAllAlphabetical"] = ">= 3x"
	ref["Alphabetical"] = 25e6;               want["Alphabetical"] = ">= 3x"
	ref["Numerical"] = 3.3e6;                 want["Numerical"] = ">= 3x"
}
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) {
		if ($(i+1) == "ns/op") { ns[name] += $i; n[name]++ }
		if ($(i+1) == "allocs/op") allocs[name] = $i
		if ($(i+1) == "max-concurrent-fetches") conc = $i
		if ($(i+1) == "speedup-vs-serial") speed = $i
	}
}
END {
	printf "%-26s %14s %14s %9s %8s  %s\n", "benchmark", "flux ns/op", "azimuth ns/op", "ratio", "allocs", "target"
	for (name in ref) if (n[name]) {
		avg = ns[name] / n[name]
		printf "%-26s %14.0f %14.0f %8.1fx %8s  %s\n", name, ref[name], avg, ref[name] / avg, allocs[name], want[name]
	}
	if (conc != "") printf "\n100 identities, 50 ms exchanges: %d fetches in flight at once, %.0fx faster than one at a time (Flux: 1, 5.0 s)\n", conc, speed
}' "$out"
