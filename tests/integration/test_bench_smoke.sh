#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The through-the-kernel benchmark (bench/bench-kernel.sh) in smoke mode:
# every configuration once, for a fraction of a second each; and the
# offload read benchmark (bench/bench-offload.sh) on two small maps.  It checks
# that the benchmark still works (tools build, rules apply, espmasqd
# forwards, the sink sees translated packets), never the numbers: those
# are whatever a shared machine gives.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
export ESPMASQD
. "$here/lib.sh"

out=$(timeout 180 bash "$here/../../bench/bench-kernel.sh" --smoke 2>&1)
rc=$?
echo "$out"
check "bench-kernel.sh --smoke found nothing broken" '[ "$rc" = 0 ]'
for c in "plain forwarding" "kernel SNAT, rule per client" \
	"espmasqd 1 queue" "espmasqd 2 queues, cpu-fanout" \
	"espmasqd 2 queues, flow hash, 2 gens"; do
	check "a table row for $c" 'grep -q "^| $c |" <<<"$out"'
done
check "ratios against kernel SNAT printed" 'grep -q "x of kernel SNAT" <<<"$out"'

# the offload read benchmark: both ways read every entry (it fails
# otherwise) and a row per size with the ratio
if [ -x "$here/../../build/bench_offload" ]; then
	out=$(timeout 60 bash "$here/../../bench/bench-offload.sh" \
		-b "$here/../../build" --smoke 2>&1)
	rc=$?
	echo "$out"
	check "bench-offload.sh --smoke found nothing broken" '[ "$rc" = 0 ]'
	check "a row per size, with dump/each" \
		'grep -Eq "^ +500 +[0-9.]+ +[0-9.]+ +[0-9.]+x$" <<<"$out" &&
		 grep -Eq "^ +2000 +[0-9.]+ +[0-9.]+ +[0-9.]+x$" <<<"$out"'
	out=$(timeout 120 bash "$here/../../bench/bench-offload.sh" \
		-b "$here/../../build" --daemon 2048 --rounds 1 2>&1)
	rc=$?
	echo "$out"
	check "bench-offload.sh --daemon: espmasqd read its 2048 entries both ways" \
		'[ "$rc" = 0 ] && [ "$(grep -c "entries 2048$" <<<"$out")" = 2 ]'
else
	check "build/bench_offload built (make bench-tools)" false
fi
echo "bench smoke: $pass passed, $fail failed"
[ $fail = 0 ]
