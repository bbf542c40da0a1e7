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
	--log "$tmp/server.log" --duration 120
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

# ---- fail-policy bypass -------------------------------------------------
# Without a daemon the kernel's NAT takes the flows (at least one client
# works); with one, espmasqd does and its flows are untracked; kill -9 hands
# them back to the kernel's NAT within the heartbeat's life; never an
# inside address on the outside link.
pkill -f "espmasqd -f $tmp/espmasq.conf"
for _ in $(seq 50); do pgrep -f "espmasqd -f $tmp/espmasq.conf" >/dev/null || break; sleep 0.1; done
rm -f "$tmp/espmasq.sock"
ns r "$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules >/dev/null
sed -i 's/^fail-policy drop$/fail-policy bypass/' "$tmp/espmasq.conf"
ns r env ESPMASQD="$ESPMASQD" "$here/../../contrib/espmasq-rules" \
	-f "$tmp/espmasq.conf" apply || { echo "bypass rules failed"; exit 1; }
ns r conntrack -F 2>/dev/null
ns_bg s tcpdump -Q in -U -n -s 0 -i s-in -w "$tmp/bypass.pcap" not arp 2>/dev/null
sleep 1
# answered ESP and ESP-in-UDP of client $2 in run $1
answered() { jq_ "$tmp/res-$1-$2.json" 'd["esp_ok"] + d["esp_udp_ok"]'; }

run bdown
echo "bypass, no daemon: client 1 $(answered bdown 1)/100, client 2 $(answered bdown 2)/100 answered"
check "bypass, no daemon: the kernel's NAT carries at least one client" \
	'[ "$(answered bdown 1)" -gt 0 ] || [ "$(answered bdown 2)" -gt 0 ]'
snat=$(ns r conntrack -L -s 192.0.2.0/24 2>/dev/null | grep -c "dst=203.0.113.1[12] ")
echo "conntrack entries the kernel's NAT made: $snat"
check "bypass, no daemon: conntrack NATs the flows to the aliases" '[ "$snat" -gt 0 ]'

ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon2.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
check "bypass: the daemon's heartbeat is in the xt_recent list" \
	'ns r grep -q "src=0.0.0.0 " /proc/net/xt_recent/espmasq'
lines=$(wc -l <"$tmp/server.log")
run bup
sleep 0.5
for i in 1 2; do
	check "bypass, daemon up: client $i's ESP and ESP-in-UDP all answered" \
		'[ "$(jq_ "$tmp/res-bup-$i.json" "(d[\"esp_ok\"], d[\"esp_udp_ok\"])")" = "(50, 50)" ]'
done
ctl -j sessions >"$tmp/bsess.json"
# the server logs each client's packets (known by their SPIs) with the
# address they came from: during this run, only the client's own alias
tail -n +"$((lines + 1))" "$tmp/server.log" >"$tmp/server-bup.log"
bad=$("$PYTHON" -c 'import json,sys
alias = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("type") == "session":
        alias[r["client"]] = r["alias"]
n = seen = 0
for l in open(sys.argv[2]):
    r = json.loads(l)
    if r.get("kind") in ("esp", "esp-udp"):
        seen += 1
        if alias.get("192.0.2.%d" % (10 + r["client"])) != r["src"]:
            n += 1
print(n if seen >= 200 else "only %d packets" % seen)' "$tmp/bsess.json" "$tmp/server-bup.log")
echo "bypass, daemon up: $bad ESP packets reached the server from an address other than their session's alias"
check "bypass, daemon up: traffic leaves on espmasq's aliases, not the kernel's picks" \
	'[ "$bad" = 0 ]'

pkill -KILL -f "espmasqd -f $tmp/espmasq.conf"
run bkill
sleep 4
run bafter
echo "bypass, after kill -9: client 1 $(answered bafter 1)/100, client 2 $(answered bafter 2)/100 answered"
check "bypass, after kill -9: the kernel's NAT takes over within the heartbeat" \
	'[ "$(answered bafter 1)" -gt 0 ] || [ "$(answered bafter 2)" -gt 0 ]'

rm -f "$tmp/espmasq.sock"
ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon3.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
sleep 0.5
run bback
for i in 1 2; do
	check "bypass, daemon back: client $i's ESP and ESP-in-UDP all answered" \
		'[ "$(jq_ "$tmp/res-bback-$i.json" "(d[\"esp_ok\"], d[\"esp_udp_ok\"])")" = "(50, 50)" ]'
done
sleep 0.5
pkill -INT -f "tcpdump -Q in -U -n -s 0 -i s-in -w $tmp/bypass.pcap"
sleep 0.5
inside=$(tshark -n -r "$tmp/bypass.pcap" -Y "ip.src == 192.0.2.0/24" 2>/dev/null | grep -c .)
ipsec=$(tshark -n -r "$tmp/bypass.pcap" -Y "esp || udp.port == 500 || udp.port == 4500" 2>/dev/null | grep -c .)
echo "bypass: the server's link saw $ipsec IKE/NAT-T/ESP packets over all four runs, $inside from inside addresses"
check "bypass: never an inside address on the outside link" \
	'[ "$ipsec" -gt 0 ] && [ "$inside" = 0 ]'
echo "fail-policy: $pass passed, $fail failed"
[ $fail = 0 ]
