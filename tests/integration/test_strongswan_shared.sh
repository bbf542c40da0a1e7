#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Four real strongSwan clients share ONE alias toward one strongSwan
# responder (IKEv2 and IKEv1 Main Mode, PSK and certificates), initiating
# at the same instant, with 10 s CHILD SA lifetimes so that rekeys from
# several clients overlap.  Pings flow through every tunnel for the whole
# run; each client link is captured and must carry only that client's own
# IKE and ESP.  Two passes:
#   gate   ports 500/4500 unchanged: the server sees four peers at one
#          address and port; replies are told apart by IKE and ESP SPI,
#          new inbound SPIs learned through the negotiation gate.  The
#          clients rekey IKE SAs (IKEv1: re-authenticate), the server
#          rekeys CHILD SAs and IKEv2 SAs and runs dead peer detection.
#   ports  natt-ports 40000-40009: each client shows the server a NAT-T
#          port of its own; the server also re-authenticates IKEv1 (a
#          new IKE SA it opens, which without a port of the client's own
#          is not attributable: see README, "Sharing an alias").
# PASSES=gate limits the run to one pass; DUR sets the seconds of pings.
# Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
PASSES=${PASSES:-gate ports}
DUR=${DUR:-45}
EMP=emv$$
. "$here/topo.sh"
. "$here/swan.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
export STRONGSWAN_CONF=$tmp/pki.conf
printf 'pki {\n\tload = random pem pkcs1 pkcs8 x509 pubkey openssl sha1 sha2\n}\n' >"$STRONGSWAN_CONF"
ALIAS=203.0.113.11
SERVER=203.0.113.100	# (swan.sh has it too)
CLIENTS="1 2 3 4"

need_root
if ! swan_have; then
	echo "strongSwan is not installed (make deps installs it)" >&2
	exit 1
fi
swan_pki "$tmp/pki" 0

# the responder's and the clients' options
SRV_OPTS="fragmentation = yes
		dpd_delay = 10s
		proposals = aes128-sha256-x25519"
CLI_OPTS="fragmentation = yes
		dpd_delay = 10s
		proposals = aes128-sha256-x25519"

# alias_port I: ADDRESS[PORT] under which the server lists client I
alias_port() {
	swanctl_ s --list-sas 2>/dev/null |
		awk -v id="'c$1.example.org'" '$1 == "remote" && $2 == id {
			print $4; exit }'
}

# run_pass NAME NATT_PORTS SERVER_IKEV1_REAUTH
run_pass() {
	local name=$1 natt=$2 s_ike1=$3 i j n
	echo "=== $name: four strongSwan clients on $ALIAS, ${natt:-no port translation}"
	SW=$tmp/sw-$name
	topo_up 4
	topo_offload off
	ns s ip addr add 198.51.100.1/32 dev lo
	topo_add_aliases $ALIAS
	cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias $ALIAS
server 203.0.113.96/27
queues 0-1
timeout esp 15s
control $tmp/espmasq.sock
${natt:+natt-ports $natt}
CONF
	"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
		ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
	ip netns exec "${EMP}r" "$ESPMASQD" -f "$tmp/espmasq.conf" -d \
		2>"$tmp/daemon-$name.log" &
	local dpid=$!
	for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
	check "[$name] daemon is up" '[ -S "$tmp/espmasq.sock" ]'

	swan_node s 20s
	swan_cert s server.example.org
	{
		echo "connections {"
		# the clients rekey PSK connections; the server rekeys the
		# CHILD and IKEv2 SAs of certificate connections, and in the
		# ports pass re-authenticates IKEv1 (a new IKE SA it opens:
		# not attributable without a port of the client's own)
		swan_server_conn psk 0 psk 0 0 "$SRV_OPTS"
		swan_server_conn cert2 2 pubkey 10s 20s "$SRV_OPTS"
		swan_server_conn cert1 1 pubkey 10s "$s_ike1" "$SRV_OPTS"
		echo "}"
		printf 'secrets {\n\tike-all {\n\t\tsecret = espmasq-test-psk\n\t}\n}\n'
	} >"$SW/s/swanctl/swanctl.conf"
	for i in $CLIENTS; do swan_node "c$i" 5s; done
	# 1 IKEv2 PSK: rekeys CHILD and IKE SAs; 2 IKEv2 certificates: the
	# server rekeys both; 3 IKEv1 PSK: Quick Modes, re-authenticates;
	# 4 IKEv1 certificates: the server's Quick Modes (and Main Modes)
	swan_client_conf 1 2 psk 10s 20s "$CLI_OPTS"
	swan_client_conf 2 2 pubkey 0 0 "$CLI_OPTS"
	swan_client_conf 3 1 psk 10s 25s "$CLI_OPTS"
	swan_client_conf 4 1 pubkey 0 0 "$CLI_OPTS"
	for n in s c1 c2 c3 c4; do
		swan_start "$n" || { echo "charon $n did not start"; exit 1; }
		swanctl_ "$n" --load-all >"$tmp/load-$name-$n.txt" 2>&1 ||
			{ echo "swanctl --load-all $n failed:"; cat "$tmp/load-$name-$n.txt"; exit 1; }
	done
	for i in $CLIENTS; do
		ns_bg "c$i" tcpdump -Q in -U -n -s 0 -i c-e -w "$tmp/$name-c$i.pcap" \
			not arp 2>/dev/null
	done
	ns_bg s tcpdump -Q in -U -n -s 0 -i s-in -w "$tmp/$name-s.pcap" \
		not arp 2>/dev/null
	sleep 1
	: >"$tmp/sas-$name.log"
	: >"$tmp/table-$name.log"
	(
		while :; do
			ctl sessions >>"$tmp/table-$name.log" 2>&1
			for i in $CLIENTS; do
				swanctl_ "c$i" --list-sas 2>/dev/null |
					sed "s/^/c$i: /" >>"$tmp/sas-$name.log"
			done
			sleep 1
		done
	) &
	local poller=$!
	TOPO_PIDS+=($poller)

	# all four at one instant; each pings through its tunnel, 5 a
	# second for DUR seconds, from the moment it is up (as traffic that
	# brings a tunnel up would)
	for i in $CLIENTS; do
		(
			swanctl_ "c$i" --initiate --child net --timeout 30 \
				>"$tmp/init-$name-$i.txt" 2>&1 &&
			ns "c$i" ping -q -i 0.2 -c $((DUR * 5)) -W 1 \
				-I "192.0.2.$((10 + i))" 198.51.100.1 \
				>"$tmp/ping-$name-$i.txt" 2>&1
		) &
		TOPO_PIDS+=($!)
	done
	for _ in $(seq 300); do
		n=0
		for i in $CLIENTS; do
			grep -qE "completed|failed" "$tmp/init-$name-$i.txt" 2>/dev/null &&
				n=$((n + 1))
		done
		[ "$n" = 4 ] && break
		sleep 0.1
	done
	for i in $CLIENTS; do
		check "[$name] client $i: tunnel up" \
			'grep -q "initiate completed successfully" "$tmp/init-$name-$i.txt"'
	done
	sleep 3
	echo "--- espmasqctl sessions, four clients on one alias:"
	ctl sessions | tee "$tmp/sessions-$name.txt"
	check "[$name] four clients on $ALIAS in the table" \
		'[ "$(grep -Ec "^192.0.2.1[1-4] +$ALIAS +$SERVER " "$tmp/sessions-$name.txt")" = 4 ]'
	declare -A seen
	for i in $CLIENTS; do
		seen[$i]=$(alias_port "$i")
		echo "client $i: the server sees it as ${seen[$i]}"
		check "[$name] client $i: the server sees it at the alias" \
			'[[ "${seen[$i]}" == "$ALIAS["* ]]'
	done
	if [ -z "$natt" ]; then
		check "[$name] the server sees all four at $ALIAS[4500]" \
			'[ "$(printf "%s\n" "${seen[@]}" | sort -u)" = "$ALIAS[4500]" ]'
	else
		check "[$name] the server sees four different NAT-T ports" \
			'[ "$(printf "%s\n" "${seen[@]}" | sort -u | grep -c .)" = 4 ]'
	fi
	for _ in $(seq $((DUR + 20))); do
		n=0
		for i in $CLIENTS; do
			grep -q "packets transmitted" "$tmp/ping-$name-$i.txt" 2>/dev/null &&
				n=$((n + 1))
		done
		[ "$n" = 4 ] && break
		sleep 1
	done
	kill "$poller" 2>/dev/null

	# --- traffic and rekeys
	local lost_total=0 sent got
	for i in $CLIENTS; do
		sent=$(grep -o '[0-9]* packets transmitted' "$tmp/ping-$name-$i.txt" | cut -d' ' -f1)
		got=$(grep -o '[0-9]* received' "$tmp/ping-$name-$i.txt" | cut -d' ' -f1)
		echo "client $i: ${got:-0} of ${sent:-0} pings answered"
		check "[$name] client $i: pings flowed for the whole run (at most 3 lost)" \
			'[ -n "$sent" ] && [ "$sent" -ge $((DUR * 5)) ] && [ $((sent - ${got:-0})) -le 3 ]'
	done
	slog() { cat "$SW/c$1/charon.log"; }
	local c1_child c1_ike c2_child c2_ike c3_qm c3_mm c4_qm c4_mm
	c1_child=$(slog 1 | grep -c "generating CREATE_CHILD_SA request .* \[ N(REKEY_SA) SA No")
	c1_ike=$(slog 1 | grep -c "generating CREATE_CHILD_SA request .* \[ SA No KE \]")
	c2_child=$(slog 2 | grep -c "parsed CREATE_CHILD_SA request .* \[ N(REKEY_SA) SA No")
	c2_ike=$(slog 2 | grep -c "parsed CREATE_CHILD_SA request .* \[ SA No KE \]")
	c3_qm=$(slog 3 | grep -c "generating QUICK_MODE request .* \[ HASH SA No")
	c3_mm=$(slog 3 | grep -c "generating ID_PROT request 0 \[ SA V")
	c4_qm=$(slog 4 | grep -c "parsed QUICK_MODE request .* \[ HASH SA No")
	c4_mm=$(slog 4 | grep -c "parsed ID_PROT request 0 \[ SA V")
	echo "rekeys: client 1 started $c1_child CHILD and $c1_ike IKE rekeys;" \
		"the server $c2_child CHILD and $c2_ike IKE rekeys with client 2;" \
		"client 3 $c3_qm Quick Modes and $c3_mm Main Modes;" \
		"the server $c4_qm Quick Modes and $c4_mm Main Modes with client 4"
	check "[$name] client 1 rekeyed its CHILD SA several times" '[ "$c1_child" -ge 3 ]'
	check "[$name] client 1 rekeyed its IKE SA" '[ "$c1_ike" -ge 1 ]'
	check "[$name] the server rekeyed client 2's CHILD SA several times" '[ "$c2_child" -ge 3 ]'
	check "[$name] the server rekeyed client 2's IKE SA" '[ "$c2_ike" -ge 1 ]'
	if [ "$s_ike1" != 0 ]; then
		check "[$name] the server re-authenticated client 4 (a Main Mode of its own)" \
			'[ "$c4_mm" -ge 1 ]'
	fi
	check "[$name] client 3 rekeyed by Quick Mode several times" '[ "$c3_qm" -ge 4 ]'
	check "[$name] client 3 re-authenticated (a second Main Mode)" '[ "$c3_mm" -ge 2 ]'
	check "[$name] the server rekeyed client 4 by Quick Mode several times" '[ "$c4_qm" -ge 3 ]'

	# --- isolation: what each client received was its own
	for i in $CLIENTS; do
		# (ICMP left out: errors quote the client's own outbound SPIs;
		# and the router's own multicast and broadcast)
		tshark -n -r "$tmp/$name-c$i.pcap" \
			-Y '!icmp && !(ip.dst == 224.0.0.0/4) && ip.dst != 255.255.255.255' \
			-T fields -e ip.dst \
			-e esp.spi -e isakmp.ispi 2>/dev/null >"$tmp/fields-$name-$i.txt"
		cut -f2 "$tmp/fields-$name-$i.txt" | grep . | sort -u >"$tmp/esp-$name-$i.txt"
		cut -f3 "$tmp/fields-$name-$i.txt" | grep . | sed 's/^0x//' | sort -u >"$tmp/ike-$name-$i.txt"
		own=$(grep -ho "established with SPIs [0-9a-f]*_i" "$SW/c$i/charon.log" |
			awk '{print "0x" $4}' | sed 's/_i//' | sort -u)
		own_ike=$(grep "^c$i: " "$tmp/sas-$name.log" |
			awk '$3 ~ /^#/ {s = $6; gsub(/[_ir*,]/, "", s); print s}' | sort -u)
		n=$(comm -23 "$tmp/esp-$name-$i.txt" <(echo "$own") | grep -c .)
		echo "client $i: $(grep -c . "$tmp/esp-$name-$i.txt") ESP SPIs and $(grep -c . "$tmp/ike-$name-$i.txt") IKE SAs received, $n ESP SPIs not its own"
		check "[$name] client $i: every packet was addressed to it" \
			'[ -s "$tmp/fields-$name-$i.txt" ] && [ -z "$(cut -f1 "$tmp/fields-$name-$i.txt" | cut -d, -f1 | grep -v "^192.0.2.$((10 + i))$")" ]'
		check "[$name] client $i: only ESP of its own SAs" \
			'[ -s "$tmp/esp-$name-$i.txt" ] && [ "$n" = 0 ]'
		check "[$name] client $i: only IKE of its own IKE SAs" \
			'[ -s "$tmp/ike-$name-$i.txt" ] && [ -z "$(comm -23 "$tmp/ike-$name-$i.txt" <(echo "$own_ike"))" ]'
	done
	for i in $CLIENTS; do
		for j in $CLIENTS; do
			[ "$i" -lt "$j" ] || continue
			check "[$name] clients $i and $j received no common IKE SA" \
				'[ -z "$(comm -12 "$tmp/ike-$name-$i.txt" "$tmp/ike-$name-$j.txt")" ]'
		done
	done
	n=$(tshark -n -r "$tmp/$name-s.pcap" -Y "ip.src == 192.0.2.0/24 || ip.dst == 192.0.2.0/24" 2>/dev/null | grep -c .)
	check "[$name] no inside address reached the server" '[ "$n" = 0 ]'
	n=$(tshark -n -r "$tmp/$name-s.pcap" -Y "(udp.port == 500 || udp.port == 4500 || esp) && ip.src != $ALIAS" 2>/dev/null | grep -c .)
	check "[$name] the server got IKE and ESP from the alias only" '[ "$n" = 0 ]'

	# --- the gate and the counters
	echo "--- espmasqctl stats:"
	ctl stats | tee "$tmp/stats-$name.txt" | grep -E "scope=shared"
	local holds timeouts deferred unknown ambig held held_max expired
	holds=$(ctl_stat gate_holds)
	timeouts=$(ctl_stat gate_timeouts)
	deferred=$(ctl_stat gate_deferred)
	unknown=$(ctl_stat spi_unknown)
	ambig=$(ctl_stat spi_ambiguous)
	held=$(ctl_stat held)
	held_max=$(ctl_statmax held_wait_ms_max)
	expired=$(ctl_stat held_expired)
	echo "[$name] gate: $holds holds, $(ctl_stat gate_released) released by their SPI," \
		"$timeouts timed out, held $(ctl_stat gate_held_ms_total) ms in all," \
		"longest $(ctl_statmax gate_held_ms_max) ms; $deferred negotiations waited" \
		"($held held, $(ctl_stat held_released) released, $expired expired," \
		"longest wait $held_max ms); SPIs: $(ctl_stat spi_assigned) assigned," \
		"$ambig ambiguous, $unknown unknown; $(ctl_stat ike_assigned) IKE SAs" \
		"the server spoke first on learned; drops: ambiguous" \
		"$(ctl_stat drop_ambiguous), unknown $(ctl_stat drop_unknown-inbound)"
	local esp_total=0 assigned
	for i in $CLIENTS; do
		esp_total=$((esp_total + $(grep -c . "$tmp/esp-$name-$i.txt")))
	done
	assigned=$(ctl_stat spi_assigned)
	if [ -z "$natt" ]; then
		# every inbound SPI a client received was learned by the gate
		# rule once (a client alone on the alias at first owns its
		# first SPI outright), and every SPI learned reached its client
		check "[$name] each inbound SPI the clients received was learned once ($assigned of $esp_total)" \
			'[ "$assigned" -ge $((esp_total - 4)) ] && [ "$assigned" -le "$esp_total" ]'
		check "[$name] negotiations and first uses went through the gate" \
			'[ "$holds" -ge "$assigned" ]'
	else
		check "[$name] no gate needed with a NAT-T port per client" '[ "$holds" = 0 ]'
		check "[$name] no SPI learned by the gate rule" '[ "$assigned" = 0 ]'
	fi
	check "[$name] no inbound SPI unknown or ambiguous" \
		'[ "$unknown" = 0 ] && [ "$ambig" = 0 ] && [ "$(ctl_stat drop_ambiguous)" = 0 ]'
	check "[$name] no held negotiation expired" '[ "$expired" = 0 ]'
	check "[$name] no packet lost in the kernel queue" \
		'! grep -Eq "kernel_(queue|user)_dropped=[1-9]" "$tmp/stats-$name.txt"'
	check "[$name] daemon still running" 'kill -0 $dpid'
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	rm -f "$tmp/espmasq.sock"
	topo_down
}

for p in $PASSES; do
	case $p in
	gate) run_pass gate "" 0 ;;
	ports) run_pass ports 40000-40009 20s ;;
	*) echo "unknown pass $p"; exit 1 ;;
	esac
done
if [ $fail != 0 ]; then
	for f in "$tmp"/daemon-*.log; do echo "--- $f:"; tail -20 "$f"; done
fi
echo "strongswan shared: $pass passed, $fail failed"
[ $fail = 0 ]
