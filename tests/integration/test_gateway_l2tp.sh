#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Gateway mode (issue 8) with a real L2TP server: xl2tpd on a VPN gateway,
# several L2TP clients behind one NAT, all from the same public address
# and all on udp/1701 <-> udp/1701, so conntrack folds them into one
# entry.  Each client has its own link into the gateway (its "SA"): the
# gateway marks what arrives on link gwN with mark N, as a decrypting SA
# would, and routes by mark (table 100+N: the client over gwN); a reply
# without a mark takes the main table's route over gw1, the wrong SA for
# every other client.  Cases, each with every client active at once:
#   control  CONNMARK --save-mark / --restore-mark, no espmasq, 2 clients:
#            replies take the mark of whichever client sent last, some
#            reach the wrong client (asserted: the topology shows the bug)
#   espmasq  espmasqd in mode gateway with 2 clients, then 5 (with the
#            CONNMARK rules of the control case left in place after
#            espmasq's, as strongSwan's connmark plugin would): every
#            control message of xl2tpd and every data message sent from
#            the gateway leaves with its own client's mark over its link,
#            no client receives another's message, and espmasqctl lists
#            one L2TP entry per client with its own mark, and each
#            client's NAT-T port (from ESP-in-UDP sent to udp/4500)
#   rekey    2 clients; client 2 moves to a new SA mark mid-run: its
#            replies follow, client 1's do not move
#   restart  2 clients; espmasqd restarted mid-run comes back with its
#            entries from the state file and attributes every reply
#   service  gateway-service udp 5000: an echo server's replies to two
#            clients' flows each leave with their own client's mark
# Without PPP (no /dev/ppp here) xl2tpd takes a call up to ICCN, starts
# pppd, which exits at once, and clears the call with a CDN; the tunnels
# stay up with HELLOs.  Data from the gateway comes from l2tp_peer.py's
# sender (a raw socket, so it goes through OUTPUT like xl2tpd's packets),
# data from the clients is dropped by xl2tpd (no tty).  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
XL2TPD=${XL2TPD:-/usr/sbin/xl2tpd}
EMP=emg$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT

GW=203.0.113.1          # the gateway (xl2tpd listens here)
PUB=203.0.113.2         # the NAT's public address: every client's
MAXN=5
DUR=10                  # seconds each client runs
DATA_AT=3 DATA_DUR=5    # the gateway's data messages, from start + DATA_AT
RATE=4                  # data messages a second, each way, per client
PEER=$here/l2tp_peer.py
CASES=${CASES:-a b c d e f} # which of the cases to run
want() { [[ " $CASES " == *" $1 "* ]]; }

need_root
if [ ! -x "$XL2TPD" ]; then
	echo "gateway_l2tp: not run: $XL2TPD is not installed (apt-get install xl2tpd)"
	exit 0
fi

# gw_up: the gateway ${EMP}g with $GW on lo, clients ${EMP}c1..c$MAXN
# each with $PUB on c-e, linked to the gateway's gwN
gw_up() {
	local i x
	for x in g $(seq -f c%g 1 $MAXN); do
		ip netns add "$EMP$x"
		ns "$x" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ns "$x" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$EMP$x" link set lo up
	done
	# a client's packets come in on its own link with an address the
	# main table routes over gw1: no reverse-path filter
	ns g sysctl -qw net.ipv4.conf.all.rp_filter=0
	ns g sysctl -qw net.ipv4.conf.default.rp_filter=0
	ip -n "${EMP}g" addr add "$GW/32" dev lo
	for i in $(seq 1 $MAXN); do
		ip link add c-e netns "${EMP}c$i" type veth peer name "gw$i" \
			netns "${EMP}g"
		ip -n "${EMP}c$i" addr add "$PUB/24" dev c-e
		ip -n "${EMP}c$i" link set c-e up
		ns g sysctl -qw "net.ipv4.conf.gw$i.rp_filter=0"
		ip -n "${EMP}g" link set "gw$i" up
		# the SA: what comes in on gwN has mark N, mark N goes out gwN
		ns g iptables -t mangle -A PREROUTING -i "gw$i" -j MARK --set-mark "$i"
		ip -n "${EMP}g" route add "$PUB/32" dev "gw$i" table $((100 + i))
		ip -n "${EMP}g" rule add fwmark "$i/0xff" lookup $((100 + i))
	done
	# no mark: the wrong SA for all but client 1
	ip -n "${EMP}g" route add "$PUB/32" dev gw1
	ns g iptables -t mangle -N GWCNT
	ns g iptables -t mangle -A POSTROUTING -j GWCNT
}

# Each case its own IDs: client I of case C sends tunnel ID tid C I and
# session ID sid C I
tid() { echo $((1000 * $1 + 10 * $2 + 1)); }
sid() { echo $((1000 * $1 + 500 + $2)); }

# u32 TYPE TID: an L2TP message with the length bit (every control
# message, and the test's data messages) whose header carries TID; TYPE
# 0xc002 control, 0x4002 data (T, L and Ver of the first word)
u32() { echo "0>>22&0x3C@8>>16&0xC00F=$1&&0>>22&0x3C@12>>16=$2"; }

# counters C N: the gateway's egress counters for case C's N clients,
# named by comment: linkI-all (udp/1701 out gwI), linkI-mark (those with
# mark I), ctlI-all and dataI-all (messages for client I's tunnel, any
# link, any mark), ctlI-ok and dataI-ok (those out gwI with mark I)
counters() {
	local c=$1 n=$2 i kind t
	ns g iptables -t mangle -F GWCNT
	for i in $(seq 1 "$n"); do
		ns g iptables -t mangle -A GWCNT -o "gw$i" -p udp --sport 1701 \
			-m comment --comment "link$i-all"
		ns g iptables -t mangle -A GWCNT -o "gw$i" -p udp --sport 1701 \
			-m mark --mark "$i/0xff" -m comment --comment "link$i-mark"
		t=$(tid "$c" "$i")
		for kind in ctl:0xC002 data:0x4002; do
			ns g iptables -t mangle -A GWCNT -p udp --sport 1701 \
				-m u32 --u32 "$(u32 "${kind#*:}" "$t")" \
				-m comment --comment "${kind%:*}$i-all"
			ns g iptables -t mangle -A GWCNT -o "gw$i" -p udp \
				--sport 1701 -m mark --mark "$i/0xff" \
				-m u32 --u32 "$(u32 "${kind#*:}" "$t")" \
				-m comment --comment "${kind%:*}$i-ok"
		done
	done
}
cnt() {
	ns g iptables -t mangle -nvxL GWCNT |
		awk -v c="/* $1 */" 'index($0, c) { print $1; exit }'
}

xl2tpd_start() {
	cat >"$tmp/xl2tpd.conf" <<CONF
[global]
listen-addr = $GW
port = 1701
auth file = $tmp/l2tp-secrets
access control = no

[lns default]
ip range = 198.51.100.10-198.51.100.60
local ip = 198.51.100.1
require authentication = no
length bit = yes
hostname = gw
pppoptfile = $tmp/ppp-options
CONF
	: >"$tmp/l2tp-secrets"
	chmod 600 "$tmp/l2tp-secrets"
	echo noauth >"$tmp/ppp-options"
	rm -f "$tmp/l2tp-control"
	ns_bg g "$XL2TPD" -D -c "$tmp/xl2tpd.conf" -p "$tmp/xl2tpd.pid" \
		-C "$tmp/l2tp-control" >>"$tmp/xl2tpd.log" 2>&1
	xl2tpd_pid=${TOPO_PIDS[-1]}
	for _ in $(seq 50); do
		ns g ss -Hlun "sport = :1701" | grep -q "$GW:1701" && return 0
		sleep 0.1
	done
	echo "xl2tpd did not start:"; cat "$tmp/xl2tpd.log"
	return 1
}
xl2tpd_stop() {
	kill "$xl2tpd_pid" 2>/dev/null
	wait "$xl2tpd_pid" 2>/dev/null
	return 0
}

# run_case C N: xl2tpd afresh, the counters zeroed, clients 1..N started
# at one instant for $DUR s, the gateway's data sender meanwhile; at
# start + DATA_AT, when the gateway's data begins, hook "at_data" is
# called, and at start + DATA_AT + DATA_DUR, while every client still
# runs, hook "mid_run" (each if defined); results in $tmp/C-cI.json and
# $tmp/C-data.json, counters in $tmp/C-cnt
run_case() {
	local c=$1 n=$2 i name start to=()
	xl2tpd_start || return 1
	counters "$c" "$n"
	ns g conntrack -F >/dev/null 2>&1
	start=$("$PYTHON" -c 'import time; print(time.time() + 1.5)')
	for i in $(seq 1 "$n"); do
		rm -f "$tmp/$c-c$i.json"
		ns_bg "c$i" "$PYTHON" "$PEER" client --addr "$PUB" --gw "$GW" \
			--tid "$(tid "$c" "$i")" --sid "$(sid "$c" "$i")" \
			--duration $DUR --rate $RATE --start-at "$start" \
			--result "$tmp/$c-c$i.json"
		to+=(--to "$(tid "$c" "$i"):$(sid "$c" "$i")")
	done
	ns_bg g "$PYTHON" "$PEER" data --src "$GW" --dst "$PUB" "${to[@]}" \
		--rate $RATE --duration $DATA_DUR \
		--start-at "$("$PYTHON" -c "print($start + $DATA_AT)")" \
		--result "$tmp/$c-data.json"
	if declare -F at_data >/dev/null; then
		sleep "$("$PYTHON" -c "import time
print(max(0, $start + $DATA_AT - time.time()))")"
		at_data "$c" "$n"
	fi
	sleep "$("$PYTHON" -c "import time
print(max(0, $start + $DATA_AT + $DATA_DUR + 0.3 - time.time()))")"
	declare -F mid_run >/dev/null && mid_run "$c" "$n"
	for i in $(seq 1 "$n"); do
		for _ in $(seq 150); do
			[ -s "$tmp/$c-c$i.json" ] && break; sleep 0.1
		done
	done
	sleep 0.5
	for name in $(ns g iptables -t mangle -nvxL GWCNT |
			grep -o '/\* [a-z0-9-]* \*/' | tr -d '/* '); do
		echo "$name $(cnt "$name")"
	done >"$tmp/$c-cnt"
	xl2tpd_stop
}

# res C I EXPR: EXPR of client I's result in case C (d), or "?"
res() { [ -s "$tmp/$1-c$2.json" ] && jq_ "$tmp/$1-c$2.json" "$3" || echo "?"; }
# cl C I EXPR: EXPR holds for client I's result in case C
cl() { [ "$(res "$1" "$2" "int(bool($3))")" = 1 ]; }
UP='"SCCRP" in d["ctl_types"] and "ICRP" in d["ctl_types"]'
CLOSED='d["tunnel"] == "stopccn-sent" and d["unacked_at_end"] == 0'
# k C NAME: counter NAME of case C
k() { awk -v n="$2" '$1 == n { print $2 }' "$tmp/$1-cnt"; }
sent() { [ -s "$tmp/$1-data.json" ] && jq_ "$tmp/$1-data.json" "d['sent'].get('$(tid "$1" "$2"):$(sid "$1" "$2")', 0)" || echo 0; }

# report C N TITLE: what each client got and what left the gateway
report() {
	local c=$1 n=$2 i
	echo "--- $3"
	printf '%-6s %-16s %6s %7s %8s %13s %14s %14s %12s\n' client tunnel \
		ctl_rx data_rx data_tx "misdeliv c/d" "egress ctl" "egress data" "link gwI"
	for i in $(seq 1 "$n"); do
		printf '%-6s %-16s %6s %7s %8s %13s %14s %14s %12s\n' "$i" \
			"$(res "$c" "$i" 'd["tunnel"]')" \
			"$(res "$c" "$i" 'd["ctl_rx"]')" \
			"$(res "$c" "$i" 'd["data_rx"]')" "$(sent "$c" "$i")" \
			"$(res "$c" "$i" 'd["misdelivered_ctl"]')/$(res "$c" "$i" 'd["misdelivered_data"]')" \
			"$(k "$c" "ctl$i-ok")/$(k "$c" "ctl$i-all") ok" \
			"$(k "$c" "data$i-ok")/$(k "$c" "data$i-all") ok" \
			"$(k "$c" "link$i-mark")/$(k "$c" "link$i-all")"
	done
	echo "(egress: messages for the client's tunnel that left over its link with its mark / all of them)"
}

# sum N EXPR: EXPR (evaluated) for clients i = 1..N, summed
sum() {
	local i s=0 v
	for i in $(seq 1 "$1"); do
		v=$(eval "$2")
		s=$((s + ${v:-0}))
	done
	echo $s
}

# connmark_on / connmark_off: the usual CONNMARK --save-mark on what
# comes in, --restore-mark on what goes out (as strongSwan's connmark
# plugin does), appended after whatever the chains hold
connmark_on() {
	ns g iptables -t mangle -N GWCTL-PRE
	ns g iptables -t mangle -N GWCTL-OUT
	ns g iptables -t mangle -A GWCTL-PRE -p udp --dport 1701 -j CONNMARK --save-mark
	ns g iptables -t mangle -A GWCTL-OUT -p udp --sport 1701 -j CONNMARK --restore-mark
	ns g iptables -t mangle -A PREROUTING -j GWCTL-PRE
	ns g iptables -t mangle -A OUTPUT -j GWCTL-OUT
}
connmark_off() {
	ns g iptables -t mangle -D PREROUTING -j GWCTL-PRE
	ns g iptables -t mangle -D OUTPUT -j GWCTL-OUT
	ns g iptables -t mangle -F GWCTL-PRE
	ns g iptables -t mangle -F GWCTL-OUT
	ns g iptables -t mangle -X GWCTL-PRE
	ns g iptables -t mangle -X GWCTL-OUT
	ns g conntrack -F >/dev/null 2>&1
}

# a. control: the usual CONNMARK save/restore, no espmasq
control_case() {
	local n=2 wrong mis
	connmark_on
	run_case 1 $n || exit 1
	report 1 $n "a. control: CONNMARK --save-mark/--restore-mark, no espmasq, $n clients"
	wrong=$(sum $n 'echo $(( $(k 1 ctl$i-all) - $(k 1 ctl$i-ok) + $(k 1 data$i-all) - $(k 1 data$i-ok) ))')
	mis=$(sum $n 'res 1 $i "d[\"misdelivered\"]"')
	echo "control: $wrong messages left with another client's mark, $mis arrived at the wrong client"
	check "control: some replies leave with another client's mark (the topology shows the bug)" \
		'[ "$wrong" -gt 0 ]'
	check "control: some messages arrive at the wrong client" '[ "$mis" -gt 0 ]'
	connmark_off
}

# gw_prepare: espmasqd's gateway configuration checked and its rules
# loaded in the gateway; sets gw_ready
gw_prepare() {
	cat >"$tmp/espmasq.conf" <<CONF
mode gateway
queues 0
gateway-mark 0xff
timeout gateway 5m
gateway-service udp 5000
control $tmp/espmasq.sock
state $tmp/gw-state
CONF
	gw_ready=1
	if ! "$ESPMASQD" -t -f "$tmp/espmasq.conf" >"$tmp/conf-check" 2>&1; then
		echo "espmasqd refuses the gateway configuration:"
		cat "$tmp/conf-check"
		gw_ready=0
	elif ! "$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules >"$tmp/rules" ||
		! ns g iptables-restore --noflush <"$tmp/rules"; then
		echo "espmasqd's gateway rules failed to load:"
		cat "$tmp/rules"
		gw_ready=0
	fi
	check "espmasqd takes mode gateway and its rules load" '[ $gw_ready = 1 ]'
}

gw_daemon_start() {
	rm -f "$tmp/espmasq.sock"
	ns_bg g "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/$1"
	pid=${TOPO_PIDS[-1]}
	for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
	[ -S "$tmp/espmasq.sock" ]
}
gw_daemon_stop() {
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
# the daemon's view while every client runs
mid_run() {
	ctl sessions >"$tmp/$1-sessions" 2>&1
	ctl stats >"$tmp/$1-stats" 2>&1
}
# gw_stat C KEY: KEY= of the "gateway" record of case C's stats (its
# first line and the indented lines that continue it)
gw_stat() {
	awk '/^[^ \t]/ { g = $1 == "gateway" } g' "$tmp/$1-stats" | tr ' ' '\n' |
		awk -F= -v k="$2" '$1 == k { s += $2 } END { print s + 0 }'
}
# sessions_ok C N: the table lists one l2tp entry per client, each with
# the mark of the client's link, its tunnel ID and session ID with the
# gateway's (TUNNEL/GW SESSION/GW after the kind) as the client got them
sessions_ok() {
	"$PYTHON" - "$tmp/$1-sessions" "$tmp/$1" "$2" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
rows = {}
for l in lines:
    w = l.split()
    if "l2tp" not in w:
        continue
    k = w.index("l2tp")
    marks = [x for x in w if re.fullmatch(r"0x[0-9a-f]{8}", x)]
    if not marks or k + 2 >= len(w):
        sys.exit("cannot read: " + l)
    rows[w[k + 1]] = (int(marks[0], 16), w[k + 2])
n = int(sys.argv[3])
if len(rows) != n:
    sys.exit("%d l2tp entries, not %d" % (len(rows), n))
for i in range(1, n + 1):
    d = json.load(open("%s-c%d.json" % (sys.argv[2], i)))
    t, s = "%d/%d" % (d["tid"], d["gw_tid"]), "%d/%d" % (d["sid"], d["gw_sid"])
    if t not in rows:
        sys.exit("no entry for client %d's tunnel %s" % (i, t))
    if rows[t][0] & 0xff != i or rows[t][1] != s:
        sys.exit("tunnel %s: mark 0x%x, session %s; not %d, %s" %
                 (t, rows[t][0], rows[t][1], i, s))
if len(set(r[0] for r in rows.values())) != n:
    sys.exit("marks not distinct")
PY
}

# natt_port C I: client I's NAT-T port in case C (the gateway's
# hashlimit remembers a port for a minute: each case has its own)
natt_port() { echo $((40000 + 10 * $1 + $2)); }
# natt_send C N: clients 1..N each send two ESP-in-UDP packets (SPI
# 0x100I, not an IKE marker) to the gateway's udp/4500 from their NAT-T
# port, as a NAT-T client's ESP arrives before decryption
natt_send() {
	local i
	for i in $(seq 1 "$2"); do
		ns "c$i" "$PYTHON" -c 'import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
for n in (1, 2):
    s.sendto(struct.pack("!II", int(sys.argv[4]), n) + bytes(24), (sys.argv[3], 4500))' \
			"$PUB" "$(natt_port "$1" "$i")" "$GW" $((0x1000 + i))
	done
}
# natt_ok C N: espmasqctl listed, for each client, a nat-t entry with
# its port and its link's mark
natt_ok() {
	local i
	for i in $(seq 1 "$2"); do
		awk -v p="$(natt_port "$1" "$i")" -v m="$(printf 0x%08x "$i")" \
			'$2 == p && $3 == m && $4 == "nat-t" { f = 1 } END { exit !f }' \
			"$tmp/$1-sessions" || return 1
	done
}

# espmasq_case C N TITLE
espmasq_case() {
	local c=$1 n=$2 i
	if [ $gw_ready != 1 ]; then
		echo "--- $3: not run (espmasqd has no gateway mode yet)"
		check "$3: runs" false
		return
	fi
	rm -f "$tmp/gw-state"	# a fresh table: the last case's would come back
	gw_daemon_start "daemon-$c.log"
	check "$3: daemon is up" '[ -S "$tmp/espmasq.sock" ]'
	natt_send "$c" "$n"
	run_case "$c" "$n" || { check "$3: xl2tpd starts" false; return; }
	report "$c" "$n" "$3"
	echo "espmasqctl sessions (while the clients ran):"
	cat "$tmp/$c-sessions"
	awk '/^[^ \t]/ { g = $1 == "gateway" } g' "$tmp/$c-stats"
	for i in $(seq 1 "$n"); do
		check "$3: client $i: tunnel up and a call answered (SCCRP, ICRP)" \
			'cl $c $i "$UP"'
		check "$3: client $i: its StopCCN acknowledged at the end" \
			'cl $c $i "$CLOSED"'
		check "$3: client $i: no control or data message of another client" \
			'cl $c $i "d[\"misdelivered\"] == 0"'
		check "$3: client $i: every data message the gateway sent it" \
			'[ "$(sent $c $i)" -gt 0 ] && cl $c $i "d[\"data_rx\"] == $(sent $c $i)"'
		check "$3: client $i: every control message for it left gw$i with mark $i" \
			'[ "$(k $c ctl$i-all)" -gt 0 ] && [ "$(k $c ctl$i-ok)" = "$(k $c ctl$i-all)" ]'
		check "$3: client $i: every data message for it left gw$i with mark $i" \
			'[ "$(k $c data$i-all)" -gt 0 ] && [ "$(k $c data$i-ok)" = "$(k $c data$i-all)" ]'
		check "$3: link gw$i: every udp/1701 packet out of it has mark $i" \
			'[ "$(k $c link$i-mark)" = "$(k $c link$i-all)" ]'
	done
	check "$3: espmasqctl sessions: one l2tp entry per client, its own mark" \
		'sessions_ok $c $n'
	check "$3: espmasqctl sessions: each client's NAT-T port with its mark" \
		'natt_ok $c $n'
	check "$3: stats: lookup_hit > 0" '[ "$(gw_stat $c lookup_hit)" -gt 0 ]'
	check "$3: stats: active = $((2 * n)) (a tunnel and a NAT-T port per client)" \
		'[ "$(gw_stat $c active)" = $((2 * n)) ]'
	echo "$3: lookup_hit=$(gw_stat "$c" lookup_hit) lookup_miss=$(gw_stat "$c" lookup_miss) learned=$(gw_stat "$c" learned) active=$(gw_stat "$c" active)"
	check "$3: flush of another peer removes nothing" \
		'ctl flush client 198.51.100.99 | grep -q "^removed 0 gateway entries"'
	check "$3: flush of the NAT address removes its $((2 * n)) entries" \
		'ctl flush client $PUB | grep -q "^removed $((2 * n)) gateway entries" &&
		 [ "$(ctl sessions)" = "no sessions" ]'
	gw_daemon_stop
}

gw_up
want a && control_case
if want b || want c || want d || want e || want f; then
	gw_prepare
fi
# d. rekey: while both clients run, client 2's traffic moves to a new
# SA (mark 12, routed over gw2 as well); the old SA stays installed, as
# it does for a while after a real rekey.  Replies must follow to the new
# mark once client 2 has sent on it, and never reach client 1.
rekey_to_12() {
	ns g iptables -t mangle -R PREROUTING 2 -i gw2 -j MARK --set-mark 12
	ip -n "${EMP}g" rule add fwmark 12/0xff lookup 102
	ns g iptables -t mangle -A GWCNT -o gw2 -p udp --sport 1701 \
		-m mark --mark 12/0xff -m comment --comment link2-mark12
	ns g iptables -t mangle -A GWCNT -o gw2 -p udp --sport 1701 \
		-m mark --mark 12/0xff -m u32 --u32 "$(u32 0x4002 "$(tid 4 2)")" \
		-m comment --comment data2-new
}
rekey_case() {
	local c=4 n=2 t="d. espmasq, client 2 rekeyed to a new SA mark"
	[ $gw_ready = 1 ] || { check "$t: runs" false; return; }
	# the PREROUTING rule of gw2 is the second: the links' marks, in order
	ns g iptables -t mangle -S PREROUTING | sed -n 3p | grep -q -- "-i gw2 " ||
		{ check "$t: gw2's mark rule found" false; return; }
	rm -f "$tmp/gw-state"
	gw_daemon_start "daemon-$c.log"
	at_data() { rekey_to_12; }
	run_case "$c" "$n" || { check "$t: xl2tpd starts" false; return; }
	unset -f at_data
	report "$c" "$n" "$t"
	echo "link2: $(k $c link2-mark12) packets with mark 12, $(k $c data2-new) of them data"
	grep -E "^203" "$tmp/$c-sessions"
	check "$t: neither client got the other's messages" \
		'cl $c 1 "d[\"misdelivered\"] == 0" && cl $c 2 "d[\"misdelivered\"] == 0"'
	check "$t: client 2 got every data message sent to it" \
		'[ "$(sent $c 2)" -gt 0 ] && cl $c 2 "d[\"data_rx\"] == $(sent $c 2)"'
	check "$t: client 1's replies kept mark 1" \
		'[ "$(k $c link1-mark)" = "$(k $c link1-all)" ] && [ "$(k $c ctl1-ok)" = "$(k $c ctl1-all)" ]'
	check "$t: gw2 carried mark 2 or 12 only" \
		'[ $(( $(k $c link2-mark) + $(k $c link2-mark12) )) = "$(k $c link2-all)" ]'
	check "$t: most of client 2's data left with the new mark" \
		'[ $(( 2 * $(k $c data2-new) )) -gt "$(sent $c 2)" ]'
	check "$t: espmasqctl shows client 2 on mark 12" \
		'grep -qE "^203\.0\.113\.2 .* 0x0000000c +l2tp +$(tid $c 2)/" "$tmp/$c-sessions"'
	check "$t: stats: updated = 1" '[ "$(gw_stat $c updated)" = 1 ]'
	gw_daemon_stop
	ns g iptables -t mangle -R PREROUTING 2 -i gw2 -j MARK --set-mark 2
	ip -n "${EMP}g" rule del fwmark 12/0xff lookup 102
}

# e. restart: espmasqd is stopped and started again while both clients
# run; the entries come back from the state file (the tunnels' client IDs
# are seen only in their SCCRQs, long gone), and every reply after the
# restart still leaves with its own client's mark.
restart_case() {
	local c=5 n=2 i t="e. espmasq restarted mid-run (state file)"
	[ $gw_ready = 1 ] || { check "$t: runs" false; return; }
	rm -f "$tmp/gw-state"
	gw_daemon_start "daemon-$c.log"
	at_data() { gw_daemon_stop; gw_daemon_start "daemon-$1-restarted.log"; }
	run_case "$c" "$n" || { check "$t: xl2tpd starts" false; return; }
	unset -f at_data
	report "$c" "$n" "$t"
	grep "state" "$tmp/daemon-$c-restarted.log"
	grep -E "^203" "$tmp/$c-sessions"
	check "$t: both entries restored" \
		'grep -q "2 gateway entries restored" "$tmp/daemon-$c-restarted.log"'
	for i in $(seq 1 $n); do
		check "$t: client $i: no message of another client" \
			'cl $c $i "d[\"misdelivered\"] == 0"'
		check "$t: client $i: data from the gateway arrived" \
			'cl $c $i "d[\"data_rx\"] > 0"'
		check "$t: link gw$i: every udp/1701 packet out of it has mark $i" \
			'[ "$(k $c link$i-mark)" = "$(k $c link$i-all)" ]'
	done
	check "$t: restarted daemon attributed every reply" \
		'[ "$(gw_stat $c lookup_hit)" -gt 0 ] && [ "$(gw_stat $c lookup_miss)" = 0 ]'
	check "$t: espmasqctl sessions after the restart" 'sessions_ok $c $n'
	gw_daemon_stop
}

# f. a service other than L2TP (gateway-service udp 5000): an echo
# server on the gateway, each client sending from a port of its own;
# the replies of each flow leave over its client's link with its mark
service_case() {
	local n=2 i t="f. espmasq, gateway-service udp 5000, 2 clients" got
	[ $gw_ready = 1 ] || { check "$t: runs" false; return; }
	rm -f "$tmp/gw-state"
	gw_daemon_start "daemon-6.log"
	ns g iptables -t mangle -F GWCNT
	for i in $(seq 1 $n); do
		ns g iptables -t mangle -A GWCNT -o "gw$i" -p udp --sport 5000 \
			-m comment --comment "svc$i-all"
		ns g iptables -t mangle -A GWCNT -o "gw$i" -p udp --sport 5000 \
			-m mark --mark "$i/0xff" -m comment --comment "svc$i-mark"
	done
	ns_bg g "$PYTHON" -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5000))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)' "$GW"
	sleep 0.5
	for i in $(seq 1 $n); do
		ns_bg "c$i" "$PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(0.5)
got = 0
for k in range(20):
    s.sendto(b"client %s %d" % (sys.argv[3].encode(), k), (sys.argv[4], 5000))
    try:
        d, a = s.recvfrom(2048)
        got += d == b"client %s %d" % (sys.argv[3].encode(), k)
    except socket.timeout:
        pass
    time.sleep(0.05)
open(sys.argv[5], "w").write("%d\n" % got)' "$PUB" $((5500 + i)) "$i" "$GW" "$tmp/svc-c$i"
	done
	for _ in $(seq 100); do
		[ -s "$tmp/svc-c1" ] && [ -s "$tmp/svc-c2" ] && break; sleep 0.1
	done
	ctl sessions >"$tmp/6-sessions" 2>&1
	grep -E " (udp|tcp) " "$tmp/6-sessions"
	for i in $(seq 1 $n); do
		got=$(cat "$tmp/svc-c$i" 2>/dev/null)
		echo "client $i: ${got:-?} of 20 echoed; out of gw$i: $(cnt "svc$i-mark") with mark $i of $(cnt "svc$i-all")"
		check "$t: client $i: every datagram echoed back to it" '[ "${got:-0}" = 20 ]'
		check "$t: client $i: every reply left gw$i with mark $i" \
			'[ "$(cnt "svc$i-all")" = 20 ] && [ "$(cnt "svc$i-mark")" = 20 ]'
		check "$t: client $i: its flow listed with mark $i" \
			'awk -v p=$((5500 + i)) -v m="$(printf 0x%08x "$i")" "\$2 == p && \$3 == m && \$4 == \"udp\" { f = 1 } END { exit !f }" "$tmp/6-sessions"'
	done
	gw_daemon_stop
}

want b && espmasq_case 2 2 "b. espmasq, 2 clients"
# as beside strongSwan's connmark plugin: espmasq's verdict comes first
if want c; then
	connmark_on
	espmasq_case 3 5 "c. espmasq beside CONNMARK save/restore, 5 clients"
	connmark_off
fi
want d && rekey_case
want e && restart_case
want f && service_case

if [ $fail != 0 ]; then
	for f in "$tmp"/daemon-*.log; do
		[ -s "$f" ] && { echo "--- $(basename "$f"):"; tail -n 30 "$f"; }
	done
fi
echo "gateway_l2tp: $pass passed, $fail failed"
[ $fail = 0 ]
