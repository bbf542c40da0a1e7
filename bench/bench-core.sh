#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# In-core benchmark per packet kind: time per packet at 1,000 and at
# 1,000,000 sessions (rounds interleaved, median), instructions per packet
# from callgrind (parse to rewrite, deterministic) at both sizes, the
# ratio (large over small) of each, the memory a session costs, and the
# memory's own cost per random cache line at both sizes (the floor under
# the flatness target).  Prints numbers;
# fails only if the benchmark itself fails, never on timing.
#
#   bench/bench-core.sh [-b BUILD_DIR] [--small N] [--large N] [--rounds N]
set -u
build=build small=1000 large=1000000 rounds=3 pkts=3000000 cgpkts=200000
while [ $# -gt 0 ]; do
	case $1 in
	-b) build=$2; shift 2 ;;
	--small) small=$2; shift 2 ;;
	--large) large=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--packets) pkts=$2; cgpkts=$2; shift 2 ;;
	*) echo "usage: $0 [-b BUILD] [--small N] [--large N] [--rounds N] [--packets N]" >&2; exit 2 ;;
	esac
done
bin=$build/bench_core
[ -x "$bin" ] || { echo "no $bin: run make first" >&2; exit 1; }
have_vg=1
command -v valgrind >/dev/null || { have_vg=0; echo "valgrind not installed: no instruction counts"; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# ns per packet of kind $1 with $2 sessions
ns() { "$bin" -s "$2" -n "$pkts" -k "$1" | sed -n 's/.*, \([0-9]*\) ns\/pkt/\1/p'; }
# instructions per packet of kind $1 with $2 sessions
ir() {
	local n
	n=$(valgrind --tool=callgrind --toggle-collect=core_burst \
		--callgrind-out-file=/dev/null "$bin" -s "$2" -n "$cgpkts" \
		-k "$1" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
	# nothing counted (a sanitized build under valgrind, say): no number
	if [ -n "$n" ] && [ "$n" -gt 0 ]; then echo $((n / cgpkts)); else echo -; fi
}

echo "bench-core: $(nproc) CPUs, $(uname -r), $rounds rounds of $pkts packets per size"
printf '%-9s %12s %12s %7s %14s %14s %7s\n' kind "ns/pkt ${small}" "ns/pkt ${large}" ratio \
	"instr ${small}" "instr ${large}" ratio
status=0
for k in esp esp-udp ike natt-ike mix; do
	: >/tmp/bc-$$-s; : >/tmp/bc-$$-l
	for _ in $(seq "$rounds"); do
		v=$(ns $k "$small") || status=1; echo "$v" >>/tmp/bc-$$-s
		v=$(ns $k "$large") || status=1; echo "$v" >>/tmp/bc-$$-l
	done
	s=$(median </tmp/bc-$$-s) l=$(median </tmp/bc-$$-l)
	is=- il=-
	if [ $have_vg = 1 ]; then
		is=$(ir $k "$small") || status=1
		il=$(ir $k "$large") || status=1
	fi
	ratio=$(awk -v a="$s" -v b="$l" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
	iratio=$(awk -v a="$is" -v b="$il" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", b / a; else print "-" }')
	printf '%-9s %12s %12s %7s %14s %14s %7s\n' $k "$s" "$l" "$ratio" "$is" "$il" "$iratio"
	[ $k = esp ] && esp_small=$s
done
rm -f /tmp/bc-$$-s /tmp/bc-$$-l
"$bin" -s "$large" -n 1 -k esp | grep -E "memory|expiry"
# The floor under the flatness target: what a random cache line costs at
# each size with a burst of reads in flight.  A lookup that reads k lines
# of its own per packet costs at least k times the difference more at the
# large size, whatever the design.
# (not in a function: status set in a $(...) would be lost)
ps=$("$bin" -m -s "$small" -n "$pkts") || status=1
pl=$("$bin" -m -s "$large" -n "$pkts") || status=1
echo "$ps"; echo "$pl"
par() { sed -n 's/.*, \([0-9.]*\) ns with [0-9]* in flight, .*/\1/p'; }
ls_=$(echo "$ps" | par) ll=$(echo "$pl" | par)
awk -v e="${esp_small:-}" -v a="$ls_" -v b="$ll" 'BEGIN {
	if (e == "" || e <= 0 || a == "" || b == "") exit
	d = b - a
	if (d < 0) d = 0	# noise: both sizes in the cache
	printf "bench-core: a random line costs %.1f ns more at the large size; an ESP packet (%d ns at the small size) reading 1 line of its own: at least %.2fx, 2 lines: %.2fx\n", d, e, (e + d) / e, (e + 2 * d) / e
}'
exit $status
