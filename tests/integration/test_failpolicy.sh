#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fail-policy drop (the default) while no daemon listens: with the rules in
# place and espmasqd not running, two clients send IKE, NAT-T and ESP for
# some seconds; a capture on the server's link shows none of it, and no
# inside address at all.  Then espmasqd starts and the same traffic goes
# through on aliases.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emf$$
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
queues 0-1
fail-policy drop
control $tmp/espmasq.sock
CONF
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules >"$tmp/rules"
check "the rules queue without --queue-bypass" \
	'grep -q NFQUEUE "$tmp/rules" && ! grep -q queue-bypass "$tmp/rules"'
ns r iptables-restore --noflush <"$tmp/rules" || { echo "rules failed"; exit 1; }
# the router would masquerade anything else: a leak would show as the
# router's address, and an untranslated one as an inside address
ns r iptables -t nat -A POSTROUTING -o r-out -j MASQUERADE
ns_bg s tcpdump -Q in -U -n -s 0 -i s-in -w "$tmp/down.pcap" not arp 2>/dev/null
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 2 \
	--log "$tmp/server.log" --duration 40
sleep 1

# run N: both clients, NAT-T and raw ESP, results in res-N-I.json
run() {
	local i start
	start=$("$PYTHON" -c 'import time; print(time.time() + 1)')
	for i in 1 2; do
		ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
			--addr "192.0.2.$((10 + i))" --server 203.0.113.100 \
			--natt --count 50 --interval 0.05 --start-at "$start" \
			--timeout 6 --result "$tmp/res-$1-$i.json"
	done
	for i in 1 2; do
		for _ in $(seq 150); do [ -s "$tmp/res-$1-$i.json" ] && break; sleep 0.1; done
	done
}

run down
sleep 0.5
pkill -INT -f "tcpdump -Q in -U -n -s 0 -i s-in -w $tmp/down.pcap"
sleep 0.5
for i in 1 2; do
	echo "client $i, no daemon: $(jq_ "$tmp/res-down-$i.json" 'dict((k, d[k]) for k in ("ike_v2_ok", "esp_sent", "esp_ok", "esp_udp_ok"))')"
done
n=$(tshark -n -r "$tmp/down.pcap" 2>/dev/null | grep -c .)
inside=$(tshark -n -r "$tmp/down.pcap" -Y "ip.src == 192.0.2.0/24" 2>/dev/null | grep -c .)
ipsec=$(tshark -n -r "$tmp/down.pcap" -Y "esp || udp.port == 500 || udp.port == 4500" 2>/dev/null | grep -c .)
echo "with no daemon the server's link saw $n packets: $inside from inside addresses, $ipsec IKE/NAT-T/ESP"
check "no daemon: no inside address on the outside link" '[ "$inside" = 0 ]'
check "no daemon: no IKE, NAT-T or ESP left the router at all" '[ "$ipsec" = 0 ]'
check "no daemon: the clients got nothing back" \
	'[ "$(jq_ "$tmp/res-down-1.json" "d[\"esp_ok\"] + d[\"esp_udp_ok\"]")" = 0 ] && [ "$(jq_ "$tmp/res-down-2.json" "d[\"esp_ok\"] + d[\"esp_udp_ok\"]")" = 0 ]'

ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
# the same capture, now that espmasqd runs: it does see this traffic
ns_bg s tcpdump -Q in -U -n -s 0 -i s-in -w "$tmp/up.pcap" not arp 2>/dev/null
sleep 1
run up
sleep 0.5
pkill -INT -f "tcpdump -Q in -U -n -s 0 -i s-in -w $tmp/up.pcap"
sleep 0.5
for i in 1 2; do
	check "with the daemon: client $i's ESP and ESP-in-UDP all answered" \
		'[ "$(jq_ "$tmp/res-up-$i.json" "(d[\"esp_ok\"], d[\"esp_udp_ok\"])")" = "(50, 50)" ]'
done
n=$(tshark -n -r "$tmp/up.pcap" -Y "(esp || udp.port == 4500) && (ip.src == 203.0.113.11 || ip.src == 203.0.113.12)" 2>/dev/null | grep -c .)
inside=$(tshark -n -r "$tmp/up.pcap" -Y "ip.src == 192.0.2.0/24" 2>/dev/null | grep -c .)
echo "with the daemon the capture saw $n ESP and NAT-T packets from the aliases, $inside from inside"
check "the capture sees the traffic once espmasqd runs, from aliases only" \
	'[ "$n" -ge 200 ] && [ "$inside" = 0 ]'
echo "fail-policy: $pass passed, $fail failed"
[ $fail = 0 ]
