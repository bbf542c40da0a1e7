#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What reading the kernel's offload counters costs, dumped and read entry
# by entry (offload-read dump / each), for maps of several sizes: in a
# network namespace of its own with the offload table of
# `espmasqd --print-rules=offload`.  Prints the time per entry of each and
# their ratio (offload-read auto dumps maps of up to 49152 entries).  Fails only
# when the benchmark itself fails, never on timing.  Needs root, nft and
# Linux 6.5.
#
#
# With --daemon SAS, espmasqd itself instead, once per offload-read mode
# (dump, each; rounds alternating): bench/gen sends raw ESP from 64 inside
# clients, 32 SPIs each, to as many servers as SAS outbound SAs take, the
# daemon hands each SA to the kernel after its first packets, and
# `espmasqctl stats` (which reads the counters before it answers) is
# timed, with the scan's own last_scan_ms.
#
#   bench/bench-offload.sh [-b BUILD_DIR] [--smoke] [--rounds N]
#                          [--daemon SAS] [SIZE...]
set -u
build=build rounds=3 sizes="1000 10000 49152 65536 100000 200000"
smoke=0 daemon_sas=0
while [ $# -gt 0 ]; do
	case $1 in
	-b) build=$2; shift 2 ;;
	--smoke) smoke=1; shift ;;
	--rounds) rounds=$2; shift 2 ;;
	--daemon) daemon_sas=$2; shift 2 ;;
	-*) echo "usage: $0 [-b BUILD] [--smoke] [--rounds N] [--daemon SAS] [SIZE...]" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] && sizes="$*"
[ $smoke = 1 ] && sizes="500 2000" rounds=1
bin=$build/bench_offload daemon=$build/espmasqd
gen=$build/bench_gen ctl=$build/espmasqctl
for f in "$bin" "$daemon"; do
	[ -x "$f" ] || { echo "no $f: run make first" >&2; exit 1; }
done
if [ "$daemon_sas" != 0 ]; then
	case $daemon_sas in *[!0-9]*) echo "--daemon takes a number" >&2; exit 2 ;; esac
	for f in "$gen" "$ctl"; do
		[ -x "$f" ] || { echo "no $f: run make bench-tools first" >&2; exit 1; }
	done
	exec env ESPMASQD="$daemon" ESPMASQCTL="$ctl" BENCH_GEN="$gen" \
		bash "$(dirname "$0")/bench-offload-daemon.sh" "$daemon_sas" "$rounds"
fi
command -v nft >/dev/null || { echo "bench-offload: nft missing" >&2; exit 1; }
ns=bo$$
tmp=$(mktemp -d)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/c.conf" <<CONF
inside 192.0.2.0/24
alias 203.0.113.11
server 203.0.113.100
offload on
CONF
ip netns add $ns || exit 1
"$daemon" -f "$tmp/c.conf" --print-rules=offload >"$tmp/o.nft" &&
	ip netns exec $ns nft -f "$tmp/o.nft" || { echo "bench-offload: cannot load the table" >&2; exit 1; }
echo "bench-offload: $(nproc) CPUs, $(uname -r), $rounds round(s) per size, dump and each alternating"
start=$(date +%s)
ip netns exec $ns "$bin" -r "$rounds" $sizes
rc=$?
echo "(dump: one GETSETELEM_RESET dump of the map; each: offload_read(), requests naming every entry;"
echo " offload-read auto dumps a map of at most 49152 entries and reads bigger ones entry by entry)"
echo "bench-offload: $(( $(date +%s) - start )) s"
exit $rc
