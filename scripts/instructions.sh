#!/usr/bin/env bash
# Counts the instructions that one call of the naive baseline and of
# Rule.MatchJSON execute on the matching events of BenchmarkMatchingEvent,
# under valgrind's callgrind. Unlike times on a shared machine, the counts
# are the same from one run to the next (within about 1%; compare builds over
# a few runs: the intern table's random seed can make two strings share a
# slot and cost a few percent more in one process), so that a
# change of a few percent can be measured; they are not times (the two
# sides differ in how many instructions a cycle retires).
#
# Usage: scripts/instructions.sh [calls]   (needs valgrind; default 2000)
#
# The garbage collector is off (GOGC=off) so that its work, which falls on
# whichever call allocates when a cycle starts, is not counted; one
# processor and no asynchronous preemption, which callgrind cannot follow.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-2000}
bin=$(mktemp -d)/detect.test
go test -c -o "$bin" .

# count BENCHMARK FUNCTION prints the instructions per call of FUNCTION.
count() {
	local out
	out=$(mktemp)
	GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
		--callgrind-out-file="$out" --toggle-collect="$2" \
		"$bin" -test.run '^$' -test.bench "$1" -test.benchtime "${calls}x" >/dev/null 2>&1
	# The benchmark calls the function once more before its b.N calls.
	callgrind_annotate "$out" | awk -v n="$calls" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%d", $1 / (n + 1) }'
	rm -f "$out"
}

printf '%-6s %12s %12s %8s\n' event naive detect ratio
for ev in seed large; do
	naive=$(count "MatchingEvent/$ev/naive" 'github.com/detectkit/detect_test.naiveMatch.func1')
	detect=$(count "MatchingEvent/$ev/detect\$" 'github.com/detectkit/detect.(*Rule).MatchJSON')
	awk -v e="$ev" -v a="$naive" -v b="$detect" 'BEGIN { printf "%-6s %12d %12d %8.2f\n", e, a, b, a / b }'
done
