#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Broken packets of every class (malformed.py), from an inside client
# toward the server and from the server toward an alias, while a real
# client keeps sending: each one the daemon sees gets a verdict and is
# counted under its reason, the IP layer refuses the rest, the daemon
# lives, and the real client loses nothing.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emm$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT

need_root
topo_up 2
topo_add_aliases 203.0.113.11 203.0.113.12
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.12
server 203.0.113.100
control $tmp/espmasq.sock
CONF
rules_load
daemon_start daemon.log
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 1 \
	--log "$tmp/server.log" --duration 90
sleep 1
client() {
	ns c1 "$PYTHON" "$here/peer.py" client --index 1 --addr 192.0.2.11 \
		--server 203.0.113.100 --natt --count "$2" --interval 0.02 \
		--timeout 5 --result "$tmp/res-$1.json" >/dev/null 2>&1
}
client before 50
check "before: the real client's ESP and ESP-in-UDP all answered" \
	'[ "$(jq_ "$tmp/res-before.json" "(d[\"esp_ok\"], d[\"esp_udp_ok\"])")" = "(50, 50)" ]'
mine=$(ctl sessions | awk '$1 == "192.0.2.11" { print $2 }')
other=203.0.113.12
[ "$mine" = 203.0.113.12 ] && other=203.0.113.11

ctl stats >"$tmp/stats-0.txt"
nstat_() { ns r nstat -az "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
hdr0=$(nstat_ IpInHdrErrors) trunc0=$(nstat_ IpExtInTruncatedPkts)
taint=$(cat /proc/sys/kernel/tainted)
client during 150 &
cpid=$!
sleep 0.5
rmac_in=$(ip -n "${EMP}r" -br link show br0 | awk '{ print $3 }')
rmac_out=$(ip -n "${EMP}r" -br link show r-out | awk '{ print $3 }')
ns c2 "$PYTHON" "$here/malformed.py" --side out --iface c-e \
	--mac "$rmac_in" --src 192.0.2.12 --dst 203.0.113.100 >"$tmp/out.json"
ns s "$PYTHON" "$here/malformed.py" --side in --iface s-in \
	--mac "$rmac_out" --src 203.0.113.100 --dst "$other" >"$tmp/in.json"
wait "$cpid"
sleep 1.5
ctl stats >"$tmp/stats-1.txt"
hdr1=$(nstat_ IpInHdrErrors) trunc1=$(nstat_ IpExtInTruncatedPkts)

check "the daemon lives through both suites" 'kill -0 "$pid"'
# a counter summed over the queues, in stats file $1
stat_in() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { s += $2 } END { print s + 0 }'; }
delta() { echo $(($(stat_in "$tmp/stats-1.txt" "$1") - $(stat_in "$tmp/stats-0.txt" "$1"))); }
"$PYTHON" -c 'import json, sys, collections
n = collections.Counter()
for f in sys.argv[1:]:
    for v in json.load(open(f)).values():
        n[v] += 1
for k, v in sorted(n.items()):
    print(k, v)' "$tmp/out.json" "$tmp/in.json" >"$tmp/expect.txt"
echo "sent: $(tr '\n' ' ' <"$tmp/expect.txt")"
while read -r what n; do
	case $what in
	drop_*)
		got=$(delta "$what")
		check "$n broken packet(s) counted as $what (got $got)" \
			'[ "$got" = "$n" ]' ;;
	kernel)
		k=$(((hdr1 - hdr0) + (trunc1 - trunc0)))
		check "$n refused by the IP layer before any hook (IpInHdrErrors + IpExtInTruncatedPkts: $k)" \
			'[ "$k" -ge "$n" ]' ;;
	esac
done <"$tmp/expect.txt"
p=$(delta packets) a=$(delta accepted) d=$(delta dropped)
echo "during the suites the daemon took $p packets: $a accepted, $d dropped"
check "every packet the daemon took got a verdict (packets = accepted + dropped)" \
	'[ "$p" -gt 0 ] && [ "$p" = $((a + d)) ]'
check "the real client lost nothing during the suites" \
	'[ "$(jq_ "$tmp/res-during.json" "(d[\"esp_ok\"], d[\"esp_udp_ok\"], d[\"foreign\"])")" = "(150, 150, 0)" ]'
b=$(jq_ "$tmp/res-before.json" 'd["esp_secs"] / d["esp_sent"]')
u=$(jq_ "$tmp/res-during.json" 'd["esp_secs"] / d["esp_sent"]')
echo "real client, seconds per ESP packet sent: $b before, $u during the suites"
# its pace is set by its interval (20 ms) plus each round trip: a slower
# daemon would stretch it
check "the real client's pace is unchanged during the suites (within 1.5x)" \
	'"$PYTHON" -c "import sys; sys.exit(0 if $u <= 1.5 * $b else 1)"'
check "the kernel is not tainted" '[ "$(cat /proc/sys/kernel/tainted)" = "$taint" ]'
grep -c "dropped malformed" "$tmp/daemon.log" | sed 's/^/daemon log lines about malformed packets: /'
echo "malformed: $pass passed, $fail failed"
[ $fail = 0 ]
