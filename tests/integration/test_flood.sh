#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Floods: from outside, 100,000 packets with random ESP SPIs and IKE SPIs
# toward the aliases; from inside, one client opening sessions toward 254
# servers.  The table stays within max-sessions and the client within
# max-sessions-per-client, the daemon's memory within 32 MB of growth, its
# log within its rate limits, every packet it takes gets a verdict, and a
# real client keeps working.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emx$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT

need_root
topo_up 2
topo_add_aliases 203.0.113.11 203.0.113.12
# the servers of the inside flood lie behind the server namespace, which
# does not forward: a blackhole
ip -n "${EMP}r" route add 198.51.100.0/24 via 203.0.113.100
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.12
server 203.0.113.100
server 198.51.100.0/24
max-sessions 1000
max-sessions-per-client 200
control $tmp/espmasq.sock
CONF
rules_load
daemon_start daemon.log
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 1 \
	--log "$tmp/server.log" --duration 120
sleep 1
client() {
	ns c1 "$PYTHON" "$here/peer.py" client --index 1 --addr 192.0.2.11 \
		--server 203.0.113.100 --natt --count "$2" --interval 0.02 \
		--timeout 5 --result "$tmp/res-$1.json" >/dev/null 2>&1
}
answered() { jq_ "$tmp/res-$1.json" '(d["esp_ok"], d["esp_udp_ok"])'; }
client before 50
check "before: the real client's ESP and ESP-in-UDP all answered" \
	'[ "$(answered before)" = "(50, 50)" ]'

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
rss0=$(rss)
ctl stats >"$tmp/stats-0.txt"
lines0=$(wc -l <"$tmp/daemon.log")
rmac_in=$(ip -n "${EMP}r" -br link show br0 | awk '{ print $3 }')
rmac_out=$(ip -n "${EMP}r" -br link show r-out | awk '{ print $3 }')
t0=$(date +%s)
client during 200 &
cpid=$!
ns s "$PYTHON" "$here/flood.py" spi --iface s-in --mac "$rmac_out" \
	--src 203.0.113.100 --aliases 203.0.113.11 203.0.113.12 \
	--count 100000 >"$tmp/spi.json" &
fpid=$!
ns c2 "$PYTHON" "$here/flood.py" servers --iface c-e --mac "$rmac_in" \
	--src 192.0.2.12 --servers 198.51.100.0/24 >"$tmp/servers.json"
# its sessions stay pending (no server answers) for 30 s: count them now
sleep 1
mine=$(ctl sessions client 192.0.2.12 | grep -c "^192.0.2.12 ")
active_peak=$(ctl stats | tr ' ' '\n' | awk -F= '$1 == "active" { print $2 }')
wait "$fpid" "$cpid"
sleep 2
t1=$(date +%s)
ctl stats >"$tmp/stats-1.txt"
rss1=$(rss)
echo "outside flood: $(cat "$tmp/spi.json"); inside flood: $(cat "$tmp/servers.json")"

check "the daemon lives through the floods" 'kill -0 "$pid"'
stat_in() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { s += $2 } END { print s + 0 }'; }
delta() { echo $(($(stat_in "$tmp/stats-1.txt" "$1") - $(stat_in "$tmp/stats-0.txt" "$1"))); }
p=$(delta packets) a=$(delta accepted) d=$(delta dropped)
unknown=$(delta drop_unknown-inbound) qd=$(delta kernel_queue_dropped)
echo "the daemon took $p packets: $a accepted, $d dropped ($unknown unknown); the kernel dropped $qd at the queue"
check "every packet the daemon took got a verdict" '[ "$p" = $((a + d)) ]'
# toward the alias of no session: unknown, dropped; toward the real
# client's own alias, from its server's address: its (as behind the
# kernel's NAT), with at most SESSION_MAX_SAS (32) of the SPIs tracked
check "random SPIs toward an alias of no session: refused as unknown, no session made" \
	'[ "$unknown" -ge 10000 ] && [ "$(ctl sessions | grep -c "^192.0.2.1[13] ")" = 1 ]'
sas=$(ctl sessions client 192.0.2.11 | grep -cE "^ +(esp|ike)")
rs=$(delta sa_refused_session)
echo "the real client's session lists $sas SAs; $rs SPIs refused as beyond its 32"
check "toward the real client's alias: at most 32 SAs tracked, the rest counted" \
	'[ "$sas" -le 32 ] && [ "$rs" -gt 0 ]'
refused=$(delta refused_client)
echo "sessions at the peak: $active_peak; the flooding client had $mine, $refused refused"
check "the table stays within max-sessions (1000)" '[ "$active_peak" -le 1000 ]'
check "the flooding client stays within max-sessions-per-client (200), the rest refused" \
	'[ "$mine" = 200 ] && [ "$refused" -ge 54 ]'
grow=$(((rss1 - rss0) / 1024))
echo "daemon memory: VmRSS $((rss0 / 1024)) MB before, $((rss1 / 1024)) MB after"
check "the daemon's memory grew by at most 32 MB" '[ "$grow" -le 32 ]'
lines=$(($(wc -l <"$tmp/daemon.log") - lines0))
# each kind of message: 5 lines per 10 s and one saying how many were
# suppressed; at most 14 kinds of drop plus malformed, sessions created
# (20 a second) and queue loss
secs=$((t1 - t0 + 1))
bound=$((16 * 6 * (secs / 10 + 1) + 20 * secs + 4))
echo "daemon log: $lines lines in $secs s (bound $bound)"
check "the log stays within its rate limits" '[ "$lines" -le "$bound" ]'
echo "real client during the floods: $(answered during) of (200, 200)"
check "the real client kept working during the floods (at least 90% answered)" \
	'r=$(jq_ "$tmp/res-during.json" "d[\"esp_ok\"] + d[\"esp_udp_ok\"]"); [ "$r" -ge 360 ]'
client after 50
check "after the floods: the real client's ESP all answered" \
	'[ "$(answered after)" = "(50, 50)" ]'
echo "flood: $pass passed, $fail failed"
[ $fail = 0 ]
