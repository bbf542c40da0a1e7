#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/bench-offload.sh --daemon SAS: what espmasqd takes to read the
# kernel's counters of about SAS offloaded outbound ESP SAs, with
# offload-read dump and each (a daemon each, ROUNDS rounds alternating).
# Topology of tests/integration/topo.sh: bench/gen in c1 sends raw ESP from
# 64 inside clients (192.0.2.128 up), 32 SPIs each, to servers
# 198.51.100.1 up, which the server namespace blackholes; 64 aliases, so
# that each session is alone on its alias and its SAs are offloaded.
# Prints numbers, never fails on timing; fails when the daemon does not
# hand the SAs over or dies.  Needs root, nft, Linux 6.5.
#
#   bench-offload-daemon.sh SAS ROUNDS
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
ESPMASQD=${ESPMASQD:-$top/build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$top/build/espmasqctl}
GEN=${BENCH_GEN:-$top/build/bench_gen}
EMP=ebo$$
. "$top/tests/integration/topo.sh"
want=${1:?SAS}
rounds=${2:-3}
clients=64 spis=32
per=$((clients * spis))
servers=$(( (want + per - 1) / per ))
[ "$servers" -ge 1 ] && [ "$servers" -le 250 ] ||
	{ echo "bench-offload: SAS from 1 to $((250 * per))" >&2; exit 2; }
sas=$((servers * per))
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
need_root

topo_up 1
aliases=()
for i in $(seq 0 $((clients - 1))); do aliases+=("203.0.113.$((11 + i))"); done
topo_add_aliases "${aliases[@]}"
ns s sysctl -qw net.ipv4.ip_forward=1
ip -n "${EMP}s" route add blackhole 198.51.100.0/24
ip -n "${EMP}r" route add 198.51.100.0/24 via 203.0.113.100
rmac=$(ip -n "${EMP}r" -br link show br0 | awk '{print $3}')

write_conf() {
	cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias ${aliases[0]}-${aliases[$((clients - 1))]}
server 198.51.100.0/24
control $tmp/espmasq.sock
queues 0
offload on
offload-read $1
# scans only when asked (espmasqctl stats), not by the timer
timeout pending 300
offload-scan 60
CONF
}
write_conf dump
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules | ns r iptables-restore --noflush ||
	{ echo "bench-offload: rules failed" >&2; exit 1; }
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload | ns r nft -f - ||
	{ echo "bench-offload: offload table failed" >&2; exit 1; }

stat_of() { "$ESPMASQCTL" -s "$tmp/espmasq.sock" stats | tr ' ' '\n' |
	awk -F= -v k="$1" '$1 == k { s += $2 } END { print s + 0 }'; }
now_ms() { date +%s%3N; }
# KEY of the offload line of the stats saved in $tmp/stats
saved() { tr ' ' '\n' <"$tmp/stats" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

# one_run MODE: prints "ctl_ms last_scan_ms entries"
one_run() {
	local s t0 t1 n
	write_conf "$1"
	daemon_start "daemon-$1.log"
	[ -S "$tmp/espmasq.sock" ] || {
		echo "bench-offload: daemon did not start" >&2
		cat "$tmp/daemon-$1.log" >&2
		return 1
	}
	# each SA's packets a few times, slowly enough for the queue: an SA
	# whose packets were all dropped is sent again with the next pass
	for pass in 1 2 3; do
		for s in $(seq 1 "$servers"); do
			ns c1 "$GEN" -i c-e -M "$rmac" -c "$clients" \
				-a 192.0.2.128 -d "198.51.100.$s" -k "$spis" \
				-m 1,0,0 -r 100000 -n $((2 * per)) >/dev/null ||
				return 1
		done
		for _ in $(seq 30); do
			[ "$(stat_of offloaded)" -ge "$sas" ] && break; sleep 0.1
		done
		[ "$(stat_of offloaded)" -ge "$sas" ] && break
	done
	n=$(stat_of offloaded)
	[ "$n" -ge "$sas" ] || { echo "bench-offload: $n of $sas SAs handed over" >&2; return 1; }
	# the first read after the hand-over, then the measured one
	stat_of entries >/dev/null
	t0=$(now_ms)
	"$ESPMASQCTL" -s "$tmp/espmasq.sock" stats >"$tmp/stats"
	t1=$(now_ms)
	kill -0 "$pid" 2>/dev/null || { echo "bench-offload: daemon died" >&2; return 1; }
	echo "$((t1 - t0)) $(saved last_scan_ms) $(saved entries)"
	kill "$pid"; wait "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "bench-offload --daemon: $sas outbound ESP SAs ($clients clients x $spis SPIs x $servers servers), $rounds round(s), dump and each alternating"
start=$(date +%s)
for r in $(seq "$rounds"); do
	for m in dump each; do
		# into a file: the daemon, started within, keeps a pipe open
		one_run "$m" >"$tmp/out" || exit 1
		out=$(cat "$tmp/out")
		echo "$m round $r: espmasqctl stats ${out%% *} ms, last_scan_ms $(cut -d' ' -f2 <<<"$out"), entries $(cut -d' ' -f3 <<<"$out")"
		echo "${out%% *}" >>"$tmp/ctl-$m"
		cut -d' ' -f2 <<<"$out" >>"$tmp/scan-$m"
	done
done
d=$(median <"$tmp/scan-dump") e=$(median <"$tmp/scan-each")
printf 'medians: dump scan %s ms (stats %s ms), each scan %s ms (stats %s ms); dump/each %s\n' \
	"$d" "$(median <"$tmp/ctl-dump")" "$e" "$(median <"$tmp/ctl-each")" \
	"$(awk -v a="$d" -v b="$e" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
echo "bench-offload --daemon: $(( $(date +%s) - start )) s"
