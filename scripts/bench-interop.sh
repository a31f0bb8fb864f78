#!/usr/bin/env bash
# bench-interop.sh runs ckpt and kubelet v1.37.2 side by side (the benchmarks
# of the interop module) in several interleaved rounds and prints, as
# Markdown, the machine, a table of medians with the ratios ckpt/kubelet and
# ckpt/floor, and the performance targets of issue 4.
#
# Each round runs every benchmark once, in source order, so that for each
# case ckpt, kubelet and the floor run back to back: slow drifts of the
# machine (other load, thermal, page cache) hit all of them alike, and the
# median over rounds discards the rounds an outside burst disturbed.
#
# Usage: scripts/bench-interop.sh [rounds] [benchtime] [bench regexp]
#   ROUNDS (default 5), BENCHTIME (default 1s), BENCH (default ., all)
#   RAW=file keeps the raw go test output.
# The benchmarks write in a temporary directory of the default TMPDIR: to
# measure a particular disk, set TMPDIR to a directory on it.
set -euo pipefail

rounds=${1:-${ROUNDS:-5}}
benchtime=${2:-${BENCHTIME:-1s}}
bench=${3:-${BENCH:-.}}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=${RAW:-$work/raw.txt}
: >"$raw"

cd "$root/interop"
go test -c -o "$work/interop.test" .
go build -o "$work/benchtable" ./internal/benchtable

tmpfs=$(df -PT "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2 " on " $1 ", mounted at " $7}')
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)
{
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "- machine: $(uname -srm), $(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null) RAM"
	echo "- disk under test: ${TMPDIR:-/tmp} ($tmpfs)"
	echo "- $(go version); kubelet k8s.io/kubernetes v1.37.2"
	echo "- command: scripts/bench-interop.sh $rounds $benchtime '$bench' (GOMAXPROCS=${GOMAXPROCS:-$(nproc)})"
	echo
} >"$work/header.md"

for r in $(seq 1 "$rounds"); do
	echo "round $r of $rounds" >&2
	# The test binary runs in the interop directory: the benchmarks read
	# ../testdata.
	"$work/interop.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" \
		-test.benchmem -test.count 1 | tee -a "$raw" | grep -E '^Benchmark' >&2 || true
done

cat "$work/header.md"
"$work/benchtable" <"$raw"
