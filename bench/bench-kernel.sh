#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Through-the-kernel benchmark: client namespace -> router namespace ->
# server namespace over veth (tests/integration/topo.sh).  bench/gen in the
# client sends stamped ESP, ESP-in-UDP and IKEv2 from CLIENTS inside
# addresses (192.0.2.128 up) to 203.0.113.200, which the server blackholes
# after counting.  The router runs, in turn within each round (A B C D,
# A B C D, ...; medians over the rounds):
#
#   plain  forwarding only
#   snat   kernel conntrack SNAT, one rule per client to its own alias
#   q1     espmasqd, one queue, its worker on the CPU the generator is not on
#   q2     espmasqd, queues 0-1, one worker pinned per CPU (cpu 0 0, cpu 1 1):
#          --print-rules gives --queue-cpu-fanout
#   q2h    as q2 with the flow hash (--queue-balance alone) instead
#   q1o, q2o  as q1, q2 with offload on: established ESP rewritten by the
#          nft table of --print-rules=offload, the rest queued
#
# NAME@2 runs NAME with two generators, one per CPU, each sending half the
# clients at half the rate, as traffic arriving on two NIC queues would;
# otherwise one generator on CPU 0 sends everything.
# Each gives: saturation throughput (offered as fast as gen can, delivered
# counted at the server's interface), the highest zero-loss rate (binary
# search), one-way latency p50/p99 at half that rate (bench/sink), CPU
# use during saturation, and the kernel's queue drop counters.
#
#   bench-kernel.sh [--smoke] [--rounds N] [--clients N] [--size IPLEN]
#                   [--mix ESP,UDP,IKE[,TCP]] [--configs "plain snat q1 q2 ..."]
#                   [--rules iptables|nft] [--paired "q1o q2o@2"] [--pairs N]
#
# Then, for each espmasqd configuration of --paired, saturation in pairs
# (--pairs, 10; 1 with --smoke; 0: none): kernel SNAT's rules and that
# configuration up together, espmasqd's rules taken out for SNAT's trial
# and put back for espmasqd's, one after the other seconds apart, each
# first in turn; each pair's own ratio, median and range.  A round's two
# configurations run minutes apart, over which a shared host's speed can
# move more than what is measured; a pair's, seconds apart.
#
# --rules nft loads espmasqd's nft script instead of its iptables rules
# (it needs the kernel's nft queue expression, CONFIG_NFT_QUEUE).  From
# the environment: BENCH_CONF, more daemon directives, a line each;
# BENCH_WRAP, a command to start the daemon under (chrt -f 10, perf ...);
# BENCH_AFTER_UP, commands run here once a configuration is up.
#
# Needs root.  Prints numbers; never fails on timing.  Exits 1 only when
# something is broken: set-up failed, the daemon died, nothing arrived,
# or packets arrived untranslated where they must not.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
ESPMASQD=${ESPMASQD:-$top/build/espmasqd}
GEN=${BENCH_GEN:-$top/build/bench_gen}
SINK=${BENCH_SINK:-$top/build/bench_sink}
EMP=ebk$$
. "$top/tests/integration/topo.sh"

smoke=0 rounds=3 clients=16 size=128 mix=6,3,1 rules=iptables
configs="plain snat q1 q1o q2 plain@2 snat@2 q1@2 q2@2 q2h@2 q2o@2"
paired="q1o q2o@2" pairs=
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--rounds) rounds=$2; shift ;;
	--clients) clients=$2; shift ;;
	--size) size=$2; shift ;;
	--mix) mix=$2; shift ;;
	--configs) configs=$2; shift ;;
	--paired) paired=$2; shift ;;
	--pairs) pairs=$2; shift ;;
	--rules) rules=$2; shift ;;
	*) echo "usage: bench-kernel.sh [--smoke] [--rounds N] [--clients N]" \
		"[--size IPLEN] [--mix ESP,UDP,IKE[,TCP]] [--configs LIST]" \
		"[--rules iptables|nft] [--paired LIST] [--pairs N]" >&2
	   exit 2 ;;
	esac
	shift
done
# seconds per saturation run, per search trial, per latency run; trials
if [ $smoke = 1 ]; then
	rounds=1 t_sat=0.3 t_zl=0.2 zl_iters=1 t_lat=0.3 t_idle=0.2
else
	t_sat=2 t_zl=1 zl_iters=7 t_lat=2 t_idle=0.5
fi
# paired trials: seconds each, pairs per configuration
if [ $smoke = 1 ]; then
	t_pair=0.3 pairs=${pairs:-1}
else
	t_pair=1 pairs=${pairs:-10}
fi
[ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] &&
	[ "$clients" -ge 1 ] && [ "$clients" -le 100 ] &&
	[ "$pairs" -ge 0 ] && [ "$pairs" -le 100 ] || {
	echo "bench: rounds 1-20, clients 1-100, pairs 0-100" >&2; exit 2; }
for b in "$ESPMASQD" "$GEN" "$SINK"; do
	[ -x "$b" ] || { echo "bench: $b missing (make bench-tools)" >&2; exit 1; }
done

tmp=$(mktemp -d)
dpid=
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
need_root

ncpu=$(nproc)
# gen on CPU 0; the other CPU is where q1's worker goes
gen_cpu=0 other_cpu=$((ncpu > 1 ? 1 : 0))
server=203.0.113.200
first_alias=11

topo_up 1
aliases=()
for i in $(seq 0 $((clients - 1))); do
	aliases+=("203.0.113.$((first_alias + i))")
done
topo_add_aliases "${aliases[@]}"
# The server forwards to a blackhole: its interface counts every packet,
# its stack answers none (no ICMP unreachable back through the router).
ns s sysctl -qw net.ipv4.ip_forward=1
ip -n "${EMP}s" route add blackhole "$server/32"
mac_of() { ip -n "$EMP$1" -br link show "$2" | awk '{print $3}'; }
ip -n "${EMP}r" neigh add "$server" lladdr "$(mac_of s s-in)" dev r-out \
	nud permanent
rmac=$(mac_of r br0)

broken=()
fail() { broken+=("$*"); echo "BROKEN: $*"; }

rxc() { ns s cat /sys/class/net/s-in/statistics/rx_packets; }
# waits (at most 3 s) until the server's counter stops moving: packets
# still in the queue or a backlog count for the trial they belong to
settle() {
	local a b i
	a=$(rxc)
	for i in $(seq 30); do
		sleep 0.1
		b=$(rxc)
		[ "$a" = "$b" ] && break
		a=$b
	done
}
# summed queue_dropped and user_dropped of every queue in the router
qstat() {
	ns r cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk '{ q += $6; u += $7 } END { print q + 0, u + 0 }'
}
# busy and total jiffies over all CPUs (the whole machine: noisy)
cpustat() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
# busy A B: percent of one CPU in use between two cpustat samples
busy() {
	awk -v a="$1" -v b="$2" -v n="$ncpu" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%.0f", (y[2] > x[2]) ? 100 * n * (y[1] - x[1]) / (y[2] - x[2]) : 0 }'
}
dcpu() {
	if [ -n "$dpid" ]; then awk '{ print $14 + $15 }' "/proc/$dpid/stat" 2>/dev/null || echo 0
	else echo 0; fi
}
alive() { [ -z "$dpid" ] || kill -0 "$dpid" 2>/dev/null; }

# gen RATE SECONDS: prints "sent seconds".  With two generators (a
# configuration named NAME@2) each sends half the clients at half the
# rate from its own CPU, as traffic arriving on two NIC queues would.
gen_one() {
	ns c1 taskset -c "$1" "$GEN" -i c-e -M "$rmac" -c "$2" -a "$3" \
		-d "$server" -s "$size" -m "$mix" -r "$4" -t "$5" |
		sed -n 's/^sent=\([0-9]*\) seconds=\([0-9.]*\).*/\1 \2/p'
}
gen() {
	local half=$((clients / 2)) r2
	if [ "$gens" = 1 ] || [ "$clients" -lt 2 ]; then
		gen_one "$gen_cpu" "$clients" 192.0.2.128 "$1" "$2"
		return
	fi
	r2=$(awk -v r="$1" 'BEGIN { printf "%d", r / 2 }')
	gen_one 0 "$half" 192.0.2.128 "$r2" "$2" >"$tmp/gen0" &
	gen_one "$other_cpu" $((clients - half)) "192.0.2.$((128 + half))" \
		"$r2" "$2" >"$tmp/gen1"
	wait $!
	cat "$tmp/gen0" "$tmp/gen1" |
		awk '{ n += $1; if ($2 > s) s = $2 } END { if (n) print n, s }'
}

write_conf() {
	{
		echo "inside 192.0.2.0/24"
		echo "outside r-out"
		echo "alias ${aliases[0]}-${aliases[$((clients - 1))]}"
		echo "server $server/32"
		echo "control $tmp/espmasq.sock"
		case $1 in
		q1*) echo "queues 0"; echo "cpu 0 $other_cpu" ;;
		q2*) echo "queues 0-1"; echo "cpu 0 0"; echo "cpu 1 $other_cpu" ;;
		esac
		# the default is auto: say which, so that q1, q2 measure
		# every packet through the daemon
		case $1 in
		*o) echo "offload on" ;;
		*) echo "offload off" ;;
		esac
		# more directives to try (batch, rcvbuf, queue-maxlen ...),
		# one per line
		[ -n "${BENCH_CONF:-}" ] && printf '%s\n' "$BENCH_CONF"
	} >"$tmp/espmasq.conf"
}

# kernel SNAT: one rule per client to its own alias, as in the seed
snat_rules() {
	local i
	for i in $(seq 0 $((clients - 1))); do
		ns r iptables -t nat -A POSTROUTING -o r-out \
			-s "192.0.2.$((128 + i))" -j SNAT \
			--to-source "${aliases[$i]}" || return 1
	done
}

cfg_up() {
	local i
	case $1 in
	plain) ;;
	snat) snat_rules || return 1 ;;
	q1|q2|q2h|q1o|q2o)
		write_conf "$1"
		"$ESPMASQD" -f "$tmp/espmasq.conf" -t >/dev/null || return 1
		rm -f "$tmp/espmasq.sock"
		if [ "$rules" = nft ]; then
			# the nft script, the offload table included
			"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=nft \
				>"$tmp/rules" || return 1
			[ "$1" = q2h ] && sed -i 's/ fanout//' "$tmp/rules"
			ns r nft -f "$tmp/rules" || return 1
		else
			"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules \
				>"$tmp/rules" || return 1
			[ "$1" = q2h ] &&
				sed -i 's/ --queue-cpu-fanout//' "$tmp/rules"
			ns r iptables-restore --noflush <"$tmp/rules" ||
				return 1
			case $1 in
			*o) "$ESPMASQD" -f "$tmp/espmasq.conf" \
				--print-rules=offload | ns r nft -f - || return 1 ;;
			esac
		fi
		# BENCH_WRAP: a command to start the daemon under (chrt -f 10,
		# nice -n -5, perf record ...)
		ip netns exec "${EMP}r" ${BENCH_WRAP:-} "$ESPMASQD" \
			-f "$tmp/espmasq.conf" -d \
			2>>"$tmp/daemon-$1.log" &
		dpid=$!
		TOPO_PIDS+=("$dpid")
		for i in $(seq 50); do
			[ -S "$tmp/espmasq.sock" ] && break
			sleep 0.1
		done
		[ -S "$tmp/espmasq.sock" ] || return 1 ;;
	*) echo "bench: unknown configuration $1" >&2; return 1 ;;
	esac
	# sessions and conntrack entries exist before anything is measured
	gen 20000 0.2 >/dev/null
	settle
	# BENCH_AFTER_UP: commands to run in this script once the
	# configuration is up, for experiments (ns r iptables -t mangle -F ...)
	[ -z "${BENCH_AFTER_UP:-}" ] || eval "$BENCH_AFTER_UP"
}

cfg_down() {
	local t i
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null
		for i in $(seq 50); do
			kill -0 "$dpid" 2>/dev/null || break
			sleep 0.1
		done
		wait "$dpid" 2>/dev/null
		dpid=
	fi
	for t in raw mangle nat; do
		ns r iptables -t "$t" -F
		ns r iptables -t "$t" -X
	done
	ns r nft delete table ip espmasq_offload 2>/dev/null
	ns r nft delete table ip espmasq 2>/dev/null
	ns r conntrack -F >/dev/null 2>&1
	return 0
}

# measure CFG ROUND: one line of results into $tmp/results
measure() {
	local cfg=$1 round=$2 r0 r1 c0 c1 d0 d1 q0 q1 out sent secs
	local sat lo hi mid zl dl cpu dcpu rate lat p50 p99 got inside offered
	local qd0 ud0 qd1 ud1 bg
	# what the rest of the machine uses with no traffic of ours
	c0=$(cpustat)
	sleep 0.3
	c1=$(cpustat)
	bg=$(busy "$c0" "$c1")
	r0=$(rxc) c0=$(cpustat) d0=$(dcpu) q0=$(qstat)
	out=$(gen 0 "$t_sat")
	r1=$(rxc) c1=$(cpustat) d1=$(dcpu) q1=$(qstat)
	read -r sent secs <<<"$out"
	if [ -z "$out" ] || [ "${sent:-0}" = 0 ]; then
		fail "$cfg: gen sent nothing"; return 1
	fi
	sat=$(awk -v d=$((r1 - r0)) -v s="$secs" 'BEGIN { printf "%d", d / s }')
	offered=$(awk -v n="$sent" -v s="$secs" 'BEGIN { printf "%d", n / s }')
	[ "$sat" -gt 0 ] || { fail "$cfg: nothing arrived at the server"; return 1; }
	cpu=$(busy "$c0" "$c1")
	dcpu=$(awk -v a="$d0" -v b="$d1" -v s="$secs" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f", 100 * (b - a) / hz / s }')
	read -r qd0 ud0 <<<"$q0"
	read -r qd1 ud1 <<<"$q1"
	settle
	alive || { fail "$cfg: espmasqd died under saturation"; return 1; }

	# highest offered rate the server received completely
	lo=0 hi=$(( sat * 12 / 10 + 1000 )) zl=0
	for _ in $(seq "$zl_iters"); do
		mid=$(( (lo + hi) / 2 ))
		r0=$(rxc)
		out=$(gen "$mid" "$t_zl")
		settle
		r1=$(rxc)
		read -r sent secs <<<"$out"
		dl=$((r1 - r0))
		if [ "${sent:-0}" -gt 0 ] && [ "$dl" -ge "$sent" ]; then
			lo=$mid
			rate=$(awk -v n="$sent" -v s="$secs" 'BEGIN { printf "%d", n / s }')
			[ "$rate" -gt "$zl" ] && zl=$rate
		else
			hi=$mid
		fi
	done
	alive || { fail "$cfg: espmasqd died during the search"; return 1; }

	# latency at half the zero-loss rate (or a tenth of saturation when
	# the search found none: the machine is noisy)
	rate=$(( zl > 0 ? zl / 2 : sat / 10 ))
	[ "$rate" -ge 100 ] || rate=100
	rm -f "$tmp/ready"
	ns s "$SINK" -i s-in -t "$(awk -v t="$t_lat" 'BEGIN { print t + 5 }')" \
		-q "$t_idle" -r "$tmp/ready" >"$tmp/sink.out" &
	local spid=$!
	for _ in $(seq 50); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
	gen "$rate" "$t_lat" >/dev/null
	wait "$spid"
	lat=$(cat "$tmp/sink.out")
	got=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$lat")
	p50=$(sed -n 's/.*p50_us=\([0-9]*\).*/\1/p' <<<"$lat")
	p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$lat")
	inside=$(sed -n 's/.*inside_src=\([0-9]*\).*/\1/p' <<<"$lat")
	[ "${got:-0}" -gt 0 ] || { fail "$cfg: the sink received nothing"; return 1; }
	if [ "${cfg%@*}" != plain ] && [ "${inside:-0}" != 0 ]; then
		fail "$cfg: $inside packets reached the server untranslated"
	fi
	alive || { fail "$cfg: espmasqd died"; return 1; }
	printf '%-5s round %d: offered %7d sat %7d zero-loss %7d pps, p50 %4s p99 %5s us,' \
		"$cfg" "$round" "$offered" "$sat" "$zl" "$p50" "$p99"
	printf ' cpu %3s%% daemon %3s%% others %s%%, queue_dropped %s user_dropped %s\n' \
		"$cpu" "$dcpu" "$bg" $((qd1 - qd0)) $((ud1 - ud0))
	echo "$cfg $round $sat $zl $p50 $p99 $cpu $dcpu $((qd1 - qd0)) $((ud1 - ud0)) $offered $bg" \
		>>"$tmp/results"
}

echo "bench-kernel: $(uname -r), $ncpu CPUs, $clients clients, IP length" \
	"$size, mix ESP,ESP-in-UDP,IKE = $mix, $rounds round(s) of: $configs"
start=$SECONDS
: >"$tmp/results"
for round in $(seq "$rounds"); do
	for cfg in $configs; do
		gens=1
		case $cfg in *@2) gens=2 ;; esac
		if ! cfg_up "${cfg%@*}"; then
			fail "$cfg: set-up failed"
			[ -s "$tmp/daemon-${cfg%@*}.log" ] &&
				tail -5 "$tmp/daemon-${cfg%@*}.log"
			cfg_down
			continue
		fi
		measure "$cfg" "$round"
		cfg_down
	done
done

# Paired trials.  The rounds above run each configuration minutes after
# the other, and on a shared host the machine's speed drifts over minutes
# more than the differences measured (kernel SNAT alone moved by a third
# between two blocks of one run).  Here kernel SNAT's rules and espmasqd
# (running, its rules loaded) stay up together, and espmasqd's rules go out
# and back in between saturation trials of T_PAIR seconds: each pair is
# one trial of each seconds apart, first in turn, and its ratio is read
# within the pair.  With espmasqd's rules out, the router has SNAT's alone
# (the raw and mangle tables and the offload table's two chains are
# deleted, not emptied, so that SNAT pays for no hook of espmasqd's); the
# offload table's maps stay, and so do the daemon's sessions.

# The parts of the configuration's rules that pair_off takes away:
# the iptables raw and mangle tables ($tmp/rules, from cfg_up) and, with
# offload, the offload table's base chains.
pair_save() {
	awk '/^\*(raw|mangle)$/ { on = 1 } on { print } /^COMMIT$/ { on = 0 }' \
		"$tmp/rules" >"$tmp/rules.rm" || return 1
	[ -s "$tmp/rules.rm" ] || return 1
	: >"$tmp/chains.nft"
	case $1 in
	*o)
		{
			echo "table ip espmasq_offload {"
			"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload |
				awk '/^\tchain (pre|post) \{$/ { on = 1 }
				     on { print }
				     on && /^\t\}$/ { on = 0 }'
			echo "}"
		} >"$tmp/chains.nft" || return 1
		grep -q "chain post" "$tmp/chains.nft" || return 1 ;;
	esac
}
pair_off() {
	if [ -s "$tmp/chains.nft" ]; then
		printf '%s\n' "flush chain ip espmasq_offload pre" \
			"delete chain ip espmasq_offload pre" \
			"flush chain ip espmasq_offload post" \
			"delete chain ip espmasq_offload post" |
			ns r nft -f - || return 1
	fi
	ns r nft delete table ip raw && ns r nft delete table ip mangle
}
pair_on() {
	ns r iptables-restore --noflush <"$tmp/rules.rm" || return 1
	[ ! -s "$tmp/chains.nft" ] || ns r nft -f "$tmp/chains.nft"
}
# delivered pkts/s offered flat out for T_PAIR seconds
pair_sat() {
	local r0 r1 out sent secs
	r0=$(rxc)
	out=$(gen 0 "$t_pair")
	r1=$(rxc)
	settle
	read -r sent secs <<<"$out"
	[ -n "$out" ] && [ "${sent:-0}" -gt 0 ] || return 1
	awk -v d=$((r1 - r0)) -v s="$secs" 'BEGIN { printf "%d", d / s }'
}
# paired CFG: PAIRS pairs of CFG (an espmasqd one) and kernel SNAT
pair_run() {
	local cfg=$1 b=${1%@*} i s e lat got inside
	gens=1
	case $cfg in *@2) gens=2 ;; esac
	cfg_up "$b" && snat_rules && pair_save "$b" || {
		fail "paired $cfg: set-up failed"; return 1; }
	# both ways warm: SNAT's conntrack entries, espmasqd's sessions
	pair_off && gen 20000 0.2 >/dev/null && settle && pair_on &&
		gen 20000 0.2 >/dev/null && settle || {
		fail "paired $cfg: switching the rules failed"; return 1; }
	for i in $(seq "$pairs"); do
		if [ $((i % 2)) = 1 ]; then
			e=$(pair_sat) && pair_off && s=$(pair_sat) && pair_on
		else
			pair_off && s=$(pair_sat) && pair_on && e=$(pair_sat)
		fi || { fail "paired $cfg: pair $i failed"; return 1; }
		alive || { fail "paired $cfg: espmasqd died"; return 1; }
		[ "$s" -gt 0 ] && [ "$e" -gt 0 ] || {
			fail "paired $cfg: nothing arrived"; return 1; }
		printf 'paired %-6s %2d: kernel SNAT %7d, espmasqd %7d pps (%s first)\n' \
			"$cfg" "$i" "$s" "$e" \
			"$([ $((i % 2)) = 1 ] && echo espmasqd || echo SNAT)"
		echo "$cfg $i $s $e" >>"$tmp/paired"
	done
	# espmasqd's rules back in, SNAT's out and its conntrack entries gone:
	# espmasqd alone still translates every packet
	ns r iptables -t nat -F POSTROUTING &&
		ns r conntrack -F >/dev/null 2>&1 || {
		fail "paired $cfg: removing SNAT's rules failed"; return 1; }
	rm -f "$tmp/ready"
	ns s "$SINK" -i s-in -t 5.3 -q "$t_idle" -r "$tmp/ready" \
		>"$tmp/sink.out" &
	local spid=$!
	for _ in $(seq 50); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
	gen 20000 0.3 >/dev/null
	wait "$spid"
	lat=$(cat "$tmp/sink.out")
	got=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$lat")
	inside=$(sed -n 's/.*inside_src=\([0-9]*\).*/\1/p' <<<"$lat")
	[ "${got:-0}" -gt 0 ] || { fail "paired $cfg: the sink received nothing"; return 1; }
	[ "${inside:-0}" = 0 ] ||
		fail "paired $cfg: $inside packets reached the server untranslated"
}

: >"$tmp/paired"
if [ "$rules" != iptables ]; then
	[ -z "$paired" ] || [ "$pairs" = 0 ] ||
		echo "bench-kernel: paired trials need --rules iptables; skipped"
elif [ "$pairs" -gt 0 ]; then
	for cfg in $paired; do
		case ${cfg%@*} in
		q1|q2|q2h|q1o|q2o) ;;
		*) fail "paired: $cfg is not an espmasqd configuration"; continue ;;
		esac
		pair_run "$cfg"
		cfg_down
	done
fi

"$PYTHON" - "$tmp/results" "$configs" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
order = sys.argv[2].split()
base = {"plain": "plain forwarding", "snat": "kernel SNAT, rule per client",
        "q1": "espmasqd 1 queue", "q2": "espmasqd 2 queues, cpu-fanout",
        "q2h": "espmasqd 2 queues, flow hash",
        "q1o": "espmasqd 1 queue, offload on",
        "q2o": "espmasqd 2 queues, cpu-fanout, offload on"}
def name(c):
    b, _, g = c.partition("@")
    return base.get(b, b) + (", 2 gens" if g == "2" else "")
med = {}
for c in order:
    rs = [r for r in rows if r[0] == c]
    if rs:
        med[c] = [statistics.median(float(r[i]) for r in rs) for i in range(2, 12)]
if not med:
    sys.exit(0)
n = max(len([r for r in rows if r[0] == c]) for c in med)
print("\nmedians of %d round(s); sat = delivered pkts/s offered flat out; "
      "zero-loss = highest rate with nothing lost;\nlatency one-way at half "
      "the zero-loss rate; cpu = whole machine (%% of one CPU, generator "
      "included) during sat;\nCPU us/pkt = that CPU time per delivered "
      "packet; q/u drops = nfnetlink_queue queue_dropped/user_dropped "
      "during sat;\nothers cpu = the machine's use just before, without "
      "our traffic (other work on a shared host)\n" % n)
print("| configuration | offered kpps | sat kpps | zero-loss kpps | p50 us "
      "| p99 us | cpu % | CPU us/pkt | daemon cpu % | q/u drops | others cpu % |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for c in order:
    if c not in med:
        continue
    m = med[c]
    print("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f/%.0f | %.0f |" % (
        name(c), m[8] / 1e3, m[0] / 1e3, m[1] / 1e3, m[2], m[3], m[4],
        m[4] * 1e4 / m[0] if m[0] else 0, m[5], m[6], m[7], m[9]))
def ratio(a, b, i):
    return med[a][i] / med[b][i] if med[b][i] else float("nan")
def spread(a, b, i):
    # the ratio within each round (the two ran minutes apart, in turn),
    # lowest and highest: how far one round's answer can be trusted
    by = {}
    for r in rows:
        if r[0] in (a, b):
            by.setdefault(r[1], {})[r[0]] = float(r[2 + i])
    rs = [v[a] / v[b] for v in by.values() if a in v and v.get(b)]
    if len(rs) < 2:
        return ""
    return " (rounds %.2f-%.2f)" % (min(rs), max(rs))
print()
for c in order:
    b, _, g = c.partition("@")
    k = "snat" + ("@" + g if g else "")
    if b in ("q1", "q2", "q2h", "q1o", "q2o") and k in med:
        print("%-36s sat %.2fx%s  zero-loss %.2fx%s of kernel SNAT" % (
            name(c) + ":", ratio(c, k, 0), spread(c, k, 0),
            ratio(c, k, 1), spread(c, k, 1)))
    k = "plain" + ("@" + g if g else "")
    if b == "snat" and k in med:
        print("%-36s sat %.2fx%s  zero-loss %.2fx%s of plain forwarding" % (
            name(c) + ":", ratio(c, k, 0), spread(c, k, 0),
            ratio(c, k, 1), spread(c, k, 1)))
for c in order:
    b, _, g = c.partition("@")
    k = "plain" + ("@" + g if g else "")
    if b != "plain" and k in med and c in med:
        print("%-36s added latency p50 %+.0f us, p99 %+.0f us" % (
            name(c) + ":", med[c][2] - med[k][2], med[c][3] - med[k][3]))
for g, what in (("", "1 generator"), ("@2", "2 generators")):
    if "q1" + g in med and "q2" + g in med:
        print("espmasqd workers, %s: 1 -> %.0f pkts/s, 2 -> %.0f pkts/s "
              "(sat, %.2fx)" % (what, med["q1" + g][0], med["q2" + g][0],
                                ratio("q2" + g, "q1" + g, 0)))
PY
"$PYTHON" - "$tmp/paired" "$paired" "$pairs" "$t_pair" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit(0)
base = {"q1": "espmasqd 1 queue", "q2": "espmasqd 2 queues, cpu-fanout",
        "q2h": "espmasqd 2 queues, flow hash",
        "q1o": "espmasqd 1 queue, offload on",
        "q2o": "espmasqd 2 queues, cpu-fanout, offload on"}
print("\npaired with kernel SNAT: %s pair(s) of %s s saturation trials, "
      "espmasqd's rules taken out and put back in between\n(both up "
      "together, each first in turn); the ratio is each pair's own, median "
      "(lowest-highest):" % (sys.argv[3], sys.argv[4]))
for c in sys.argv[2].split():
    rs = [r for r in rows if r[0] == c]
    if not rs:
        continue
    b, _, g = c.partition("@")
    name = base.get(b, b) + (", 2 gens" if g == "2" else "")
    q = [int(r[3]) / int(r[2]) for r in rs]
    print("%-36s sat %.2fx (%.2f-%.2f) of kernel SNAT; medians: espmasqd %.0fk, kernel SNAT %.0fk pkts/s" % (
        name + ":", statistics.median(q), min(q), max(q),
        statistics.median(int(r[3]) for r in rs) / 1e3,
        statistics.median(int(r[2]) for r in rs) / 1e3))
PY
echo "bench-kernel: $((SECONDS - start)) s"
if [ ${#broken[@]} -gt 0 ]; then
	printf 'broken: %s\n' "${broken[@]}"
	exit 1
fi
exit 0
