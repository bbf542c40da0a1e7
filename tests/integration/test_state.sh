#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sessions across restarts (the `state` file): three scapy clients send
# ESP and ESP-in-UDP through espmasqd (real encryption, every packet
# answered) while the daemon is stopped with SIGTERM and started again,
# then killed with SIGKILL and started again.  Each time the table comes
# back with the same aliases and SPIs before the first packet, and the
# tunnels go on; what is lost is what arrived while no daemon listened.
# Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emt$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
# 25 packets a second per flow, six flows: what the Python peers keep up
# with on a slow machine, so that what is lost is lost in the router
K=${K:-750}
INTERVAL_MS=40
INTERVAL=0.04
# table FILE: "client alias" lines and "client kind spi" lines, sorted
table() {
	awk '/^192/ {c = $1; print c, "alias", $2} /^    (esp|ike)/ {print c, $1, $3}' "$1" | sort
}

need_root
topo_up 3
topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13
mkdir -p "$tmp/lib"
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.12
pin 192.0.2.13 203.0.113.13
server 203.0.113.100/31
queues 0-1
state $tmp/lib/sessions
control $tmp/espmasq.sock
CONF
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
# start_daemon N: the Nth run, its log in daemon-N.log
start_daemon() {
	rm -f "$tmp/espmasq.sock"
	ip netns exec "${EMP}r" "$ESPMASQD" -f "$tmp/espmasq.conf" -d \
		2>"$tmp/daemon-$1.log" &
	dpid=$!
	for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.02; done
}
# restart SIG N: stops the daemon with SIG, starts run N; adds the time
# without a daemon to down_total (ms)
down_total=0
restart() {
	local t0 t1
	t0=$(date +%s%N)
	kill -"$1" "$dpid"
	wait "$dpid" 2>/dev/null
	start_daemon "$2"
	t1=$(date +%s%N)
	down_ms=$(((t1 - t0) / 1000000))
	down_total=$((down_total + down_ms))
	echo "SIG$1: stopped and started again in $down_ms ms"
}
start_daemon 1
check "daemon is up" '[ -S "$tmp/espmasq.sock" ]'

ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 3 \
	--log "$tmp/server.log" --duration 90
start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
for i in 1 2 3; do
	ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
		--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --natt \
		--count "$K" --interval $INTERVAL --start-at "$start" \
		--timeout 80 --result "$tmp/res-$i.json"
done
sleep 6
ctl sessions >"$tmp/t1.txt"
table "$tmp/t1.txt" >"$tmp/k1.txt"
echo "--- espmasqctl sessions before the restart:"
cat "$tmp/t1.txt"

# SIGTERM: the daemon writes the table, a new one reads it back
restart TERM 2
check "the state file was written whole" \
	'[ "$(grep -c "^session " "$tmp/lib/sessions")" = 3 ] && tail -1 "$tmp/lib/sessions" | grep -qx end'
check "no temporary file left" '[ ! -e "$tmp/lib/sessions.tmp" ]'
grep "state" "$tmp/daemon-2.log"
check "the new daemon restored 3 sessions" \
	'grep -q "3 sessions and [0-9]* SAs restored" "$tmp/daemon-2.log"'
ctl sessions >"$tmp/t2.txt"
table "$tmp/t2.txt" >"$tmp/k2.txt"
check "same clients, aliases and SPIs right after the restart" \
	'[ -s "$tmp/k1.txt" ] && diff "$tmp/k1.txt" "$tmp/k2.txt"'
sleep 5

# SIGKILL: nothing written at the end; the file of the last write (the
# one at SIGTERM, under 30 s old) brings the sessions back
ctl sessions >"$tmp/t3.txt"
restart KILL 3
grep "state" "$tmp/daemon-3.log"
check "after SIGKILL the last written state came back" \
	'grep -q "3 sessions and [0-9]* SAs restored" "$tmp/daemon-3.log"'
ctl sessions >"$tmp/t4.txt"
check "same clients and aliases after SIGKILL" \
	'diff <(table "$tmp/t3.txt" | grep alias) <(table "$tmp/t4.txt" | grep alias)'

# a broken state file is refused, not trusted
cp "$tmp/lib/sessions" "$tmp/lib/good"
t0=$(date +%s%N)
kill -TERM "$dpid"
wait "$dpid" 2>/dev/null
printf 'espmasq-state 1 written=%s\nsession client=192.0.2.11 server=x\nsa kind=nope\ngarbage\nsession client=192.0.2.99 server=203.0.113.100 alias=203.0.113.11\n' "$(date +%s)" >"$tmp/lib/sessions"
cat "$tmp/lib/good" | sed -n '2,$p' >>"$tmp/lib/sessions"
start_daemon 4
t1=$(date +%s%N)
down_total=$((down_total + (t1 - t0) / 1000000))
echo "SIGTERM and a damaged file: stopped and started again in $(((t1 - t0) / 1000000)) ms"
grep "state" "$tmp/daemon-4.log"
check "bad lines in the state file are skipped and counted, the rest restored" \
	'grep -q "3 sessions and [0-9]* SAs restored.* 4 lines not understood" "$tmp/daemon-4.log"'
check "the daemon runs after a damaged state file" 'kill -0 "$dpid"'

for i in 1 2 3; do
	for _ in $(seq 900); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
done
ctl sessions >"$tmp/t5.txt"
echo "--- espmasqctl sessions at the end:"
grep -E '^(CLIENT|192)' "$tmp/t5.txt"
# while no daemon listens the kernel drops queued packets (fail-policy
# drop): three stops lose what arrives in those moments (one packet per
# INTERVAL_MS per flow), and what half a second brings per stop
bound=$((down_total / INTERVAL_MS + 3 * (500 / INTERVAL_MS)))
echo "no daemon for $down_total ms in all"

for i in 1 2 3; do
	r=$tmp/res-$i.json
	ok=$(jq_ "$r" 'd["esp_ok"]' 2>/dev/null)
	uok=$(jq_ "$r" 'd["esp_udp_ok"]' 2>/dev/null)
	echo "client $i: ESP ${ok:-?} of $K answered, ESP-in-UDP ${uok:-?} of $K"
	check "client $i: at most $bound of $K ESP packets lost over three stops" \
		'[ -n "$ok" ] && [ $((K - ok)) -le $bound ]'
	check "client $i: at most $bound of $K ESP-in-UDP packets lost" \
		'[ -n "$uok" ] && [ $((K - uok)) -le $bound ]'
	check "client $i: nothing foreign" '[ "$(jq_ "$r" "d[\"foreign\"]")" = 0 ]'
	check "client $i: the same alias at the end" \
		'[ "$(awk -v c=192.0.2.$((10 + i)) "\$1 == c {print \$2}" "$tmp/t1.txt")" = "$(awk -v c=192.0.2.$((10 + i)) "\$1 == c {print \$2}" "$tmp/t5.txt")" ]'
done
[ $fail = 0 ] || tail -20 "$tmp"/daemon-*.log
echo "state: $pass passed, $fail failed"
[ $fail = 0 ]
