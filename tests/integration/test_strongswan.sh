#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real IPsec software through espmasqd: one strongSwan responder and four
# strongSwan clients behind the router (IKEv2 and IKEv1 Main Mode, PSK and
# certificates), a transit router with a 1000-byte MTU link before the
# server.  Phases:
#   up      all clients initiate at one instant; certificate messages
#           travel as IP fragments both ways; each client on its own alias
#           with ports 500/4500 unchanged
#   rekey   pings through every tunnel while CHILD and IKE SAs are rekeyed
#           by clients and by the server; the session table follows SPIs;
#           no packet of one client reaches another
#   icmp    path MTU discovery through espmasq, unreachable errors back to
#           the right client, errors about unknown flows delivered nowhere
#   idle    NAT-T keepalives hold idle sessions; a client that disappears
#           loses its alias after the timeout, and a new client gets it
# NAT=kernel runs the same checks through plain MASQUERADE on one address
# (the control; PHASES=up limits it to the first phase).  DEFRAG=1 makes
# the router reassemble fragments before espmasqd sees them.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
NAT=${NAT:-espmasq}
PHASES=${PHASES:-up rekey icmp idle}
EMP=ems$$
. "$here/topo.sh"
. "$here/swan.sh"
tmp=$(mktemp -d)
SW=$tmp/sw
cleanup() { topo_down; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
# pki loads its own plugins quietly from this file
export STRONGSWAN_CONF=$tmp/pki.conf
printf 'pki {\n\tload = random pem pkcs1 pkcs8 x509 pubkey openssl sha1 sha2\n}\n' >"$STRONGSWAN_CONF"
phase() { [[ " $PHASES " == *" $1 "* ]]; }
NATT_TIMEOUT=12
SANS=100
CLIENTS="1 2 3 4"

need_root
if ! swan_have; then
	echo "strongSwan is not installed (make deps installs it)" >&2
	exit 1
fi
topo_up 5 1000
topo_offload off	# receivers then verify every checksum in software
ns s ip addr add 198.51.100.1/32 dev lo
# nothing answers for 203.0.113.102: the transit router says so
ns m ip route add unreachable 203.0.113.102/32

if [ -n "${DEFRAG:-}" ]; then
	# any rule that uses conntrack makes the router reassemble what it
	# forwards, as on most routers: espmasqd then gets whole datagrams
	ns r iptables -t filter -A FORWARD -m conntrack --ctstate INVALID -j ACCEPT
fi
if [ "$NAT" = kernel ]; then
	ns r iptables -t nat -A POSTROUTING -o r-out -j MASQUERADE
else
	topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.14
	cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.14
# one client per alias: the idle phase checks that a fifth client waits
# for a free alias (sharing has its own test)
alias-clients 1
server 203.0.113.96/27
queues 0-1
timeout nat-t ${NATT_TIMEOUT}s
timeout esp 20s
timeout ike 20s
timeout pending 10s
control $tmp/espmasq.sock
CONF
	"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
		ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
	ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
	for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
	check "daemon is up" '[ -S "$tmp/espmasq.sock" ]'
fi

# --- peers -----------------------------------------------------------
t0=$(date +%s)
swan_pki "$tmp/pki" "$SANS"
swan_node s 20s
swan_cert s server.example.org
# the responder's and the clients' options
SRV_OPTS="fragmentation = no
		dpd_delay = 5s
		proposals = aes128-sha256-x25519, aes128-sha256-modp2048"
CLI_OPTS="fragmentation = no
		proposals = aes128-sha256-x25519, aes128-sha256-modp2048"
{
	echo "connections {"
	# PSK clients rekey by themselves; the server rekeys the others
	swan_server_conn psk 0 psk 0 0 "$SRV_OPTS"
	swan_server_conn cert 0 pubkey 10s 20s "$SRV_OPTS"
	echo "}"
	printf 'secrets {\n\tike-all {\n\t\tsecret = espmasq-test-psk\n\t}\n}\n'
} >"$SW/s/swanctl/swanctl.conf"

for i in 1 2 3 4 5; do swan_node "c$i" 5s; done
# 1 IKEv2 PSK: rekeys CHILD and IKE SAs itself; 2 IKEv2 certificates: the
# server rekeys; 3 IKEv1 Main Mode PSK: Quick Mode rekeys; 4 IKEv1 Main
# Mode certificates: the server rekeys; 5 the late client of the idle phase
swan_client_conf 1 2 psk 10s 20s "$CLI_OPTS"
swan_client_conf 2 2 pubkey 0 0 "$CLI_OPTS"
swan_client_conf 3 1 psk 10s 0 "$CLI_OPTS"
swan_client_conf 4 1 pubkey 0 0 "$CLI_OPTS"
swan_client_conf 5 2 psk 0 0 "$CLI_OPTS"
echo "certificates made in $(($(date +%s) - t0)) s"
for n in s 1 2 3 4 5; do
	[ "$n" = s ] || n=c$n
	swan_start "$n" || { echo "charon $n did not start"; exit 1; }
	swanctl_ "$n" --load-all >"$tmp/load-$n.txt" 2>&1 ||
		{ echo "swanctl --load-all $n failed:"; cat "$tmp/load-$n.txt"; exit 1; }
done

# capture everything each client receives, and what reaches the server
for i in $CLIENTS 5; do
	ns_bg "c$i" tcpdump -Q in -U -n -s 0 -i c-e -w "$tmp/c$i.pcap" \
		not arp 2>/dev/null
done
ns_bg s tcpdump -Q in -U -n -s 0 -i s-in -w "$tmp/s.pcap" not arp 2>/dev/null
sleep 1

# poll the session table and the clients' SAs once a second
poll() {
	while :; do
		date +%s >>"$tmp/table.log"
		[ "$NAT" = kernel ] || ctl sessions >>"$tmp/table.log" 2>&1
		for i in $CLIENTS 5; do
			swanctl_ "c$i" --list-sas 2>/dev/null |
				sed "s/^/c$i: /" >>"$tmp/sas.log"
		done
		sleep 1
	done
}
poll &
TOPO_PIDS+=($!)

# alias_of I: the address the server lists client I under
alias_of() {
	swanctl_ s --list-sas 2>/dev/null |
		awk -v id="'c$1.example.org'" '$1 == "remote" && $2 == id {
			sub(/\[.*/, "", $4); print $4; exit }'
}

# ======================================================================
echo "=== up: four clients initiate at one instant"
for i in $CLIENTS; do
	swanctl_ "c$i" --initiate --child net --timeout 30 \
		>"$tmp/init-$i.txt" 2>&1 &
done
wait_init() {
	local i
	for i in $(seq 300); do
		jobs -r | grep -q "swanctl" || break
		sleep 0.1
	done
}
wait_init
listing=$(swanctl_ s --list-sas)
echo "$listing" | grep -E "^[a-z]+: #|remote"
declare -A alias
for i in $CLIENTS; do
	check "client $i: tunnel up" 'grep -q "initiate completed successfully" "$tmp/init-$i.txt"'
	alias[$i]=$(alias_of "$i")
	ports=$(grep -A2 "'c$i.example.org'" <<<"$listing" |
		grep -o '\[[0-9]*\]' | tr '\n' ' ')
	echo "client $i: server sees it as ${alias[$i]} ports $ports"
	check "client $i: listed on an alias" '[[ "${alias[$i]}" == 203.0.113.1[1-4] ]]'
	check "client $i: the server sees udp/4500 unchanged" '[ "$ports" = "[4500] " ]'
	check "client $i: IKE began from udp/500 unchanged" \
		'grep -q "received packet: from ${alias[$i]}\[500\] to 203.0.113.100\[500\]" "$SW/s/charon.log"'
done
check "four different aliases" \
	'[ "$(printf "%s\n" "${alias[@]}" | sort -u | grep -c "^203.0.113.1[1-4]$")" = 4 ]'
sleep 0.5
# frags PCAP FILTER: the IP fragments in PCAP that FILTER also matches.
# The captures are still being written: a read that comes too early
# (seen on a freshly installed machine, the first reads of a run) is
# tried again, for up to 5 s.
frags() {
	local n _
	for _ in $(seq 10); do
		n=$(tshark -n -r "$1" -Y "$2(ip.flags.mf == 1 || ip.frag_offset > 0)" 2>/dev/null | grep -c .)
		[ "$n" -ge 2 ] && break
		sleep 0.5
	done
	echo "$n"
}
# the certificate messages: bigger than any link, so IP fragments
for i in 2 4; do
	n=$(frags "$tmp/c$i.pcap" "")
	echo "client $i received $n IP fragments"
	check "client $i: server's certificate message arrived in fragments" '[ "$n" -ge 2 ]'
	n=$(frags "$tmp/s.pcap" "ip.src == ${alias[$i]} && ")
	echo "server received $n IP fragments from client $i's alias"
	check "client $i: its certificate message reached the server in fragments from its alias" '[ "$n" -ge 2 ]'
done
big=$(grep -h "sending packet: from 192.0.2" "$SW"/c[24]/charon.log |
	sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' | sort -n | tail -1)
echo "largest IKE message a certificate client sent: $big bytes"
n=$(tshark -n -r "$tmp/s.pcap" -Y "ip.src == 192.0.2.0/24 || ip.dst == 192.0.2.0/24" 2>/dev/null | grep -c .)
check "no inside address reached the server" '[ "$n" = 0 ]'
if [ "$NAT" != kernel ]; then
	echo "--- espmasqctl sessions:"
	ctl sessions
	nfrag=$(ctl stats | grep -o 'kind_fragment=[0-9]*' | awk -F= '{s += $2} END {print s + 0}')
	if [ -n "${DEFRAG:-}" ]; then
		echo "the router reassembled: espmasqd saw $nfrag fragments"
		check "whole datagrams, no fragments, reached espmasqd" '[ "$nfrag" = 0 ]'
	else
		echo "espmasqd translated $nfrag fragments one by one"
		check "espmasqd translated the fragments one by one" '[ "$nfrag" -ge 8 ]'
	fi
	for i in $CLIENTS; do
		check "client $i: espmasq's table agrees with the server" \
			'ctl sessions | grep -Eq "^192.0.2.$((10 + i)) +${alias[$i]} +203.0.113.100 "'
	done
fi

# ======================================================================
if phase rekey; then
echo "=== rekey: pings through every tunnel while SAs are rekeyed"
DUR=44
for i in $CLIENTS; do
	ns_bg "c$i" ping -q -i 0.2 -c $((DUR * 5)) -W 1 -I "192.0.2.$((10 + i))" \
		198.51.100.1 >"$tmp/ping-$i.txt" 2>&1
done
# while the pings still flow: each client's inbound SAs that carried a
# packet in the last 2 s, and then what espmasq's table lists for it (in
# that order: each of those packets had passed espmasqd before the table
# is read, where the other order misses an SA rekeyed between the two)
sleep $((DUR - 6))
for i in $CLIENTS; do
	for _ in 1 2 3 4; do
		swanctl_ "c$i" --list-sas | awk '$1 == "in" && $5 + 0 > 0 && $7 + 0 <= 2 {sub(/,/, "", $2); print $2}' |
			sort -u >"$tmp/snap-sas-$i.txt"
		ctl sessions >"$tmp/snap-table-$i.txt" 2>&1
		[ -s "$tmp/snap-sas-$i.txt" ] && break
		sleep 0.5
	done
done
sleep 8
for i in $CLIENTS; do
	sent=$(grep -o '[0-9]* packets transmitted' "$tmp/ping-$i.txt" | cut -d' ' -f1)
	got=$(grep -o '[0-9]* received' "$tmp/ping-$i.txt" | cut -d' ' -f1)
	echo "client $i: $got of $sent pings answered"
	check "client $i: pings flowed across the rekeys (at most 2 lost)" \
		'[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ $((sent - got)) -le 2 ]'
done
log() { cat "$SW/c$1/charon.log"; }
c1_child=$(log 1 | grep -c "generating CREATE_CHILD_SA request .* \[ N(REKEY_SA) SA No")
c1_ike=$(log 1 | grep -c "generating CREATE_CHILD_SA request .* \[ SA No KE \]")
c2_child=$(log 2 | grep -c "parsed CREATE_CHILD_SA request .* \[ N(REKEY_SA) SA No")
c2_ike=$(log 2 | grep -c "parsed CREATE_CHILD_SA request .* \[ SA No KE \]")
c3_qm=$(log 3 | grep -c "generating QUICK_MODE request .* \[ HASH SA No")
c4_qm=$(log 4 | grep -c "parsed QUICK_MODE request .* \[ HASH SA No")
echo "rekeys: client 1 started $c1_child CHILD and $c1_ike IKE rekeys;" \
	"the server started $c2_child CHILD and $c2_ike IKE rekeys with client 2;" \
	"client 3 $c3_qm Quick Modes; the server $c4_qm Quick Modes with client 4"
check "client 1 rekeyed its CHILD SA several times" '[ "$c1_child" -ge 3 ]'
check "client 1 rekeyed its IKE SA" '[ "$c1_ike" -ge 1 ]'
check "the server rekeyed client 2's CHILD SA several times" '[ "$c2_child" -ge 3 ]'
check "the server rekeyed client 2's IKE SA" '[ "$c2_ike" -ge 1 ]'
check "client 3 rekeyed by Quick Mode several times" '[ "$c3_qm" -ge 3 ]'
check "the server rekeyed client 4 by Quick Mode several times" '[ "$c4_qm" -ge 3 ]'

# esp_in_of CLIENT: the inbound ESP SPIs espmasqctl sessions lists for it
esp_in_of() {
	awk -v c="$1" '/^[0-9]/ {keep = ($1 == c)} keep && $1 == "esp-in" {print $3}' | sort -u
}
if [ "$NAT" != kernel ]; then
	# every SPI a client used was learned, and the table keeps only
	# those of the last ${NATT_TIMEOUT} s
	for i in $CLIENTS; do
		c=192.0.2.$((10 + i))
		# (an IKE SA caught between its IKE_SA_INIT request and
		# response shows no responder SPI yet: the same SA)
		ike_all=$(awk -v c="$c" '/^[0-9]/ {keep = ($1 == c)} keep && $1 == "ike" {print $3}' "$tmp/table.log" | sort -u |
			awk -F: '{ spi[NR] = $0; i[NR] = $1; if ($2 != "0000000000000000") full[$1] = 1 }
				END { for (k = 1; k <= NR; k++) if (!(split(spi[k], p, ":") == 2 && p[2] == "0000000000000000" && full[i[k]])) print spi[k] }')
		echo "client $i: IKE SAs in the table over the run: $(echo $ike_all)"
		# (a rekeyed IKE SA shows in the table from its first message;
		# the rekey exchange itself travels on the old one)
		had=$(grep "^c$i: " "$tmp/sas.log" | awk '$4 == "ESTABLISHED," {gsub(/[_ir*,]/, "", $6); gsub(/[_ir*,]/, "", $7); print $6 ":" $7}' | sort -u)
		check "client $i: the table lists only IKE SAs the client had" \
			'[ -n "$ike_all" ] && [ -z "$(comm -23 <(echo "$ike_all") <(echo "$had"))" ]'
		case $i in 1 | 2) check "client $i: the table followed its IKE rekeys" '[ "$(grep -c . <<<"$ike_all")" -ge 2 ]' ;; esac
		own_in=$(log "$i" | grep -o "established with SPIs [0-9a-f]*_i" | awk '{print $4}' | sed 's/_i//' | sort -u)
		learned=$(esp_in_of "$c" <"$tmp/table.log")
		n_own=$(grep -c . <<<"$own_in")
		n_learned=$(comm -12 <(echo "$own_in") <(echo "$learned") | grep -c .)
		now_in=$(esp_in_of "$c" <"$tmp/snap-table-$i.txt")
		cur=$(cat "$tmp/snap-sas-$i.txt")
		echo "client $i: $n_own inbound SPIs over the run, $n_learned seen in the table; in use: [$(echo $cur)], in the table then: [$(echo $now_in)]"
		check "client $i: the table learned its inbound SPIs across rekeys" '[ "$n_own" -ge 3 ] && [ "$n_learned" -ge $((n_own - 1)) ]'
		check "client $i: the table holds the SPIs that carry its traffic" '[ -n "$cur" ] && [ -z "$(comm -23 <(echo "$cur") <(echo "$now_in"))" ]'
		check "client $i: the table shows no SPI it did not negotiate" '[ -z "$(comm -23 <(echo "$now_in") <(echo "$own_in"))" ]'
		# the first SA was replaced some 30 s before: long expired
		first=$(log "$i" | grep -o "established with SPIs [0-9a-f]*_i" | head -1 | awk '{print $4}' | sed 's/_i//')
		check "client $i: old SPIs dropped after their timeout" \
			'! grep -qx "$first" <<<"$now_in" && [ "$(grep -c . <<<"$now_in")" -lt "$n_own" ]'
	done
fi
fi

# ======================================================================
if phase icmp; then
echo "=== icmp: path MTU discovery and unreachable errors through the NAT"
for i in $CLIENTS; do
	ns_bg "c$i" ping -q -M do -s 1200 -i 0.3 -c 12 -W 1 -I "192.0.2.$((10 + i))" \
		198.51.100.1 >"$tmp/bigping-$i.txt" 2>&1
done
sleep 5
for i in $CLIENTS; do
	ns_bg "c$i" "$PYTHON" "$here/icmp_tool.py" probe --iface c-e \
		--src "192.0.2.$((10 + i))" --dst 203.0.113.102 --timeout 3 \
		--result "$tmp/probe-$i.json"
done
if [ "$NAT" != kernel ]; then
	# errors about flows espmasq does not know: another server, an
	# unknown ESP flow, a TCP flow of the router's own
	for i in $CLIENTS; do
		ns s "$PYTHON" "$here/icmp_tool.py" inject --src 203.0.113.100 \
			--dst "${alias[$i]}" --qsrc "${alias[$i]}" --qdst 203.0.113.101 --proto ike --count 2
		ns s "$PYTHON" "$here/icmp_tool.py" inject --src 203.0.113.101 \
			--dst "${alias[$i]}" --qsrc "${alias[$i]}" --qdst 203.0.113.101 --proto esp --count 2
		ns s "$PYTHON" "$here/icmp_tool.py" inject --src 203.0.113.100 \
			--dst "${alias[$i]}" --qsrc "${alias[$i]}" --qdst 203.0.113.100 --proto tcp --count 1
	done
fi
sleep 6
for i in $CLIENTS; do
	got=$(grep -o '[0-9]* received' "$tmp/bigping-$i.txt" | cut -d' ' -f1)
	mtu=$(ns "c$i" ip route get 203.0.113.100 | grep -o 'mtu [0-9]*')
	echo "client $i: ${got:-0} of 12 big DF pings answered; route cache: ${mtu:-none}"
	check "client $i learned the path MTU through the NAT" '[ "$mtu" = "mtu 1000" ]'
	check "client $i: big DF pings get through after that" '[ "${got:-0}" -ge 9 ]'
	fn=$(tshark -n -r "$tmp/c$i.pcap" -Y "icmp.type == 3 && icmp.code == 4" -T fields -e ip.src -e ip.dst 2>/dev/null | sort -u)
	echo "client $i: fragmentation-needed errors received: $(echo $fn)"
	check "client $i: fragmentation needed came to it, quoting itself" \
		'[ "$fn" = "$(printf "203.0.113.2,192.0.2.%d\t192.0.2.%d,203.0.113.100" $((10 + i)) $((10 + i)))" ]'
	r=$tmp/probe-$i.json
	echo "client $i probe: $(cat "$r" 2>/dev/null)"
	check "client $i: host unreachable came back, quoting exactly what it sent, checksums good" \
		'"$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); e=d[\"errors\"]; sys.exit(not (d[\"sent\"] and len(e) == 1 and e[0][\"type\"] == 3 and e[0][\"code\"] == 1 and e[0][\"from\"] == \"203.0.113.2\" and e[0][\"ip_ok\"] and e[0][\"icmp_ok\"] and e[0][\"quote_ip_ok\"] and e[0][\"quote_matches\"]))" "$r"'
	n=$(tshark -n -r "$tmp/c$i.pcap" -Y "icmp && !(icmp.code == 4 || icmp.code == 1) && icmp.type != 0" 2>/dev/null | grep -c .)
	check "client $i: no other ICMP error reached it" '[ "$n" = 0 ]'
done
if [ "$NAT" != kernel ]; then
	# the router cannot deliver a server's packet (its TTL runs out
	# there, after espmasqd sent it on to client 2): its own error goes
	# back to the server quoting the alias, not the inside address
	ns s "$PYTHON" "$here/icmp_tool.py" probe --iface s-in --src 203.0.113.100 \
		--dst "${alias[2]}" --ttl 2 --timeout 2 --result "$tmp/probe-ttl.json"
	r=$tmp/probe-ttl.json
	echo "server's probe with TTL 2: $(cat "$r" 2>/dev/null)"
	check "the router's time exceeded error quotes the alias, checksums good" \
		'"$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); e=d[\"errors\"]; sys.exit(not (d[\"sent\"] and len(e) == 1 and e[0][\"type\"] == 11 and e[0][\"from\"] == \"203.0.113.1\" and e[0][\"quote_dst\"] == sys.argv[2] and e[0][\"ip_ok\"] and e[0][\"icmp_ok\"] and e[0][\"quote_ip_ok\"] and e[0][\"quote_matches\"]))" "$r" "${alias[2]}"'
fi
n=$(tshark -n -r "$tmp/s.pcap" -Y "icmp && (ip.src == 192.0.2.0/24 || ip.dst == 192.0.2.0/24)" 2>/dev/null | grep -c .)
check "no inside address in ICMP at the server" '[ "$n" = 0 ]'
if [ "$NAT" != kernel ]; then
	stats=$(ctl stats)
	unk=$(grep -o 'drop_unknown-inbound=[0-9]*' <<<"$stats" | awk -F= '{s += $2} END {print s + 0}')
	passed=$(grep -o 'icmp_passed=[0-9]*' <<<"$stats" | awk -F= '{s += $2} END {print s + 0}')
	echo "errors about unknown IPsec flows dropped: $unk, about other flows passed to the router: $passed"
	check "errors about unknown IPsec flows counted and dropped (16 sent)" '[ "$unk" -ge 16 ]'
	check "errors about the router's own flows passed to it (4 sent)" '[ "$passed" -ge 4 ]'
fi
fi

# ======================================================================
if phase idle && [ "$NAT" != kernel ]; then
echo "=== idle: keepalives hold idle sessions; a vanished client frees its alias"
swanctl_ c5 --initiate --child net --timeout 20 >"$tmp/init-5a.txt" 2>&1
check "client 5: no alias while four clients hold all four" \
	'! grep -q "initiate completed successfully" "$tmp/init-5a.txt" && ctl stats | grep -q "drop_no-alias=[1-9]"'
gone=${alias[1]}
swan_stop c1
t_kill=$(date +%s)
echo "client 1 ($gone) stopped; waiting for its session to expire"
for _ in $(seq 60); do
	ctl sessions | grep -q "^192.0.2.11 " || break
	sleep 1
done
t_gone=$(date +%s)
echo "client 1's session went $((t_gone - t_kill)) s after it stopped"
check "client 1's session expired within the timeout (+ IKE's 20 s)" \
	'! ctl sessions | grep -q "^192.0.2.11 " && [ $((t_gone - t_kill)) -le 26 ]'
for i in 2 3 4; do
	check "client $i: idle session held by keepalives" \
		'ctl sessions | grep -Eq "^192.0.2.$((10 + i)) +${alias[$i]} "'
done
n=$(tshark -n -r "$tmp/s.pcap" -Y "icmp.type == 3 && icmp.code == 3 && ip.src == $gone" -T fields -e ip.src 2>/dev/null | grep -c .)
echo "port unreachable errors from client 1's alias seen by the server: $n"
check "client 1's port unreachable errors reached the server from its alias" '[ "$n" -ge 1 ]'
n=$(tshark -n -r "$tmp/s.pcap" -Y "ip.src == 192.0.2.0/24 || ip.dst == 192.0.2.0/24" 2>/dev/null | grep -c .)
check "no inside address reached the server, in any phase" '[ "$n" = 0 ]'
# the server gives up on client 1 by dead peer detection; only then does
# client 5 come, so that nothing the server still sends client 1 is taken
# for client 5's (a new owner of an address inherits its old traffic)
for _ in $(seq 40); do
	swanctl_ s --list-sas 2>/dev/null | grep -q "'c1.example.org'" || break
	sleep 1
done
echo "the server forgot client 1 $(($(date +%s) - t_kill)) s after it stopped"
swanctl_ c5 --initiate --child net --timeout 20 >"$tmp/init-5b.txt" 2>&1
alias[5]=$(alias_of 5)
echo "client 5 now on ${alias[5]}"
check "client 5: tunnel up once client 1's alias was free" 'grep -q "initiate completed successfully" "$tmp/init-5b.txt"'
check "client 5: got the alias client 1 left" '[ "${alias[5]}" = "$gone" ]'
check "client 5: pings through its tunnel" 'ns c5 ping -c 3 -i 0.2 -W 2 -I 192.0.2.15 198.51.100.1 >/dev/null'
for i in 2 3 4; do
	# pings for 3 s: the server re-authenticates client 4 (IKEv1) every
	# 20 s, and strongSwan's IKEv1 re-authentication may leave a short
	# gap; a tunnel that works answers within the window
	check "client $i: tunnel still works after idling" \
		'ns "c$i" ping -c 15 -i 0.2 -W 1 -I "192.0.2.$((10 + i))" 198.51.100.1 >"$tmp/idle-ping-$i.txt" ||
		{ tail -3 "$tmp/idle-ping-$i.txt"; tail -15 "$SW/c$i/charon.log"; false; }'
	check "client $i: still on its alias" '[ "$(alias_of "$i")" = "${alias[$i]}" ]'
done
fi

# ======================================================================
echo "=== isolation: what each client received was its own"
for i in $CLIENTS 5; do
	# (ICMP errors left out: they quote the client's own outbound SPIs)
	tshark -n -r "$tmp/c$i.pcap" -Y '!icmp' -T fields -e ip.dst -e esp.spi \
		-e isakmp.ispi 2>/dev/null >"$tmp/fields-$i.txt"
	cut -f2 "$tmp/fields-$i.txt" | grep . | sort -u >"$tmp/esp-$i.txt"
	cut -f3 "$tmp/fields-$i.txt" | grep . | sort -u >"$tmp/ike-$i.txt"
	own=$(grep -ho "established with SPIs [0-9a-f]*_i" "$SW/c$i/charon.log" |
		awk '{print "0x" $4}' | sed 's/_i//' | sort -u)
	stray=$(comm -23 "$tmp/esp-$i.txt" <(echo "$own") | grep -c .)
	echo "client $i: $(grep -c . "$tmp/esp-$i.txt") ESP SPIs and $(grep -c . "$tmp/ike-$i.txt") IKE SAs received, $stray ESP SPIs not its own"
	check "client $i: every packet was addressed to it" \
		'[ -z "$(cut -f1 "$tmp/fields-$i.txt" | cut -d, -f1 | grep -v "^192.0.2.$((10 + i))$" | grep -v "^255.255.255.255$")" ]'
	check "client $i: only ESP of its own SAs" '[ "$stray" = 0 ]'
done
for i in $CLIENTS 5; do
	for j in $CLIENTS 5; do
		[ "$i" -lt "$j" ] || continue
		check "clients $i and $j share no IKE SA" \
			'[ -z "$(comm -12 "$tmp/ike-$i.txt" "$tmp/ike-$j.txt")" ]'
	done
done

if [ "$NAT" != kernel ]; then
	echo "--- espmasqctl stats:"
	ctl stats
	check "daemon still running" 'pgrep -f "espmasqd -f $tmp/espmasq.conf" >/dev/null'
	check "no packet lost in the kernel queue" \
		'! ctl stats | grep -Eq "kernel_(queue|user)_dropped=[1-9]"'
fi
if [ $fail != 0 ]; then
	[ -f "$tmp/daemon.log" ] && { echo "--- daemon log:"; tail -30 "$tmp/daemon.log"; }
	for i in $CLIENTS; do echo "--- init $i:"; tail -4 "$tmp/init-$i.txt"; done
fi
echo "strongswan ($NAT): $pass passed, $fail failed"
[ $fail = 0 ]
