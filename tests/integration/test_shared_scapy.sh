#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Six clients behind one router share ONE alias toward one NAT-T-less VPN
# server (scapy peers, real ESP encryption both ways).  All six start
# IKE_SA_INIT + IKE_AUTH at the same instant, then use their CHILD SA, then
# rekey at the same instant (CREATE_CHILD_SA, new SPIs both ways) and use
# the new SA.  Every client must get exactly its own replies.  Three passes:
#   raw      raw ESP; the gate serializes the six negotiations
#   natt     IKE on udp/4500 and ESP in UDP, ports kept: the same gate
#   ports    as natt, with natt-ports: each client has a port of its own
#            on the alias, so no gate is needed
# Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emh$$
. "$here/topo.sh"
tmp=$(mktemp -d)
dpid=
stop_daemon() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	dpid=
}
cleanup() { stop_daemon; topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
N=6 K=20
ALIAS=203.0.113.11 SERVER=203.0.113.100

need_root
topo_up $N
topo_add_aliases $ALIAS

# run_pass NAME NATT_FLAG EXTRA_CONFIG
run_pass() {
	local name=$1 natt=$2 extra=$3 i start rekey r
	echo "=== pass $name"
	cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias $ALIAS
server $SERVER
queues 0-1
control $tmp/espmasq.sock
$extra
CONF
	"$ESPMASQD" -f "$tmp/espmasq.conf" -t >/dev/null || { fail=$((fail + 1)); return; }
	# the same rules serve every pass (natt-ports needs none of its own)
	[ "$name" = raw ] && { "$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
		ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }; }
	ip netns exec "${EMP}r" "$ESPMASQD" -f "$tmp/espmasq.conf" -d \
		2>"$tmp/daemon-$name.log" &
	dpid=$!
	for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
	check "[$name] daemon is up" '[ -S "$tmp/espmasq.sock" ]'
	rm -f "$tmp"/res-*.json
	: >"$tmp/server.log"
	ns_bg s "$PYTHON" "$here/peer.py" server --addr $SERVER --clients $N \
		--log "$tmp/server.log" --duration 25
	start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
	rekey=$("$PYTHON" -c "print($start + 7)")
	for i in $(seq $N); do
		ns_bg "c$i" "$PYTHON" "$here/peer.py" shared-client --index "$i" \
			--addr "192.0.2.$((10 + i))" --server $SERVER $natt \
			--count $K --start-at "$start" --rekey-at "$rekey" \
			--result "$tmp/res-$i.json"
	done
	sleep 6
	echo "--- espmasqctl sessions, all six on one alias:"
	ctl sessions | tee "$tmp/sessions-$name.txt"
	ctl -j sessions >"$tmp/sessions-$name.json"
	ctl -j stats >>"$tmp/sessions-$name.json"
	# -j is JSON a program can load: every line parses, SPIs are strings
	# (hex, even when all their digits are decimal), counters are numbers
	check "[$name] espmasqctl -j prints valid JSON, SPIs as strings" \
		'"$PYTHON" -c "
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sas = [r for r in rs if r[\"type\"] == \"sa\"]
assert len(sas) >= $N, len(sas)
for r in sas:
    for k in (\"spi\", \"ispi\", \"rspi\"):
        assert k not in r or isinstance(r[k], str), r
    assert isinstance(r[\"pkts\"], int), r
assert any(isinstance(r.get(\"cpu\"), int) for r in rs), rs
" "$tmp/sessions-$name.json"'
	for i in $(seq $N); do
		for _ in $(seq 250); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
	done
	for i in $(seq $N); do
		r=$tmp/res-$i.json
		check "[$name] client $i wrote a result" '[ -s "$r" ]' || continue
		echo "client $i: $(jq_ "$r" 'dict((k, d[k]) for k in ("auth_wait_ms", "rekey_wait_ms", "first_reply_ms", "replies", "ike_sent", "foreign_what"))')"
		check "[$name] client $i IKE_SA_INIT answered" '[ "$(jq_ "$r" "d[\"init_ok\"]")" = True ]'
		check "[$name] client $i IKE_AUTH answered" '[ "$(jq_ "$r" "d[\"auth_ok\"]")" = True ]'
		check "[$name] client $i rekey answered" '[ "$(jq_ "$r" "d[\"rekey_ok\"]")" = True ]'
		check "[$name] client $i all $K replies on its first SA and all $K on its rekeyed SA" \
			'[ "$(jq_ "$r" "d[\"replies\"]")" = "[$K, $K]" ]'
		check "[$name] client $i received nothing foreign" '[ "$(jq_ "$r" "d[\"foreign\"]")" = 0 ]'
	done
	# the server saw every packet from the alias, decrypted every one with
	# the SA of the client that sent it, and never saw an inside address
	check "[$name] server decrypted ESP from all six" \
		'[ "$("$PYTHON" -c "import json,sys; print(len({json.loads(l).get(\"client\") for l in open(sys.argv[1])} - {None}))" "$tmp/server.log")" = "$N" ]'
	check "[$name] server saw only the alias" \
		'"$PYTHON" -c "import json,sys; s={json.loads(l)[\"src\"] for l in open(sys.argv[1])}; print(s); sys.exit(s != {\"$ALIAS\"})" "$tmp/server.log"'
	check "[$name] server decrypted every ESP packet" '! grep -q undecryptable "$tmp/server.log"'
	check "[$name] six clients on $ALIAS in the table" \
		'[ "$(grep -c "^192.0.2.* $ALIAS " "$tmp/sessions-$name.txt")" = $N ]'
	echo "--- espmasqctl stats:"
	ctl stats | tr ' ' '\n' |
		grep -E "^(gate|spi|held|drop_ambig|drop_unknown|drop_gate|drop_no)" | paste -sd' '
	eval "$4"
	stop_daemon
	while pgrep -f "peer.py server" >/dev/null; do sleep 0.2; done
	rm -f "$tmp/espmasq.sock"
}

# With the gate, each new inbound SPI has exactly one waiting client:
# 6 IKE_AUTH + 6 rekeys take the gate one after another, each released by
# its own first reply, none by timeout; no SPI is ever ambiguous or
# unknown, and no held negotiation waits past its limit.
gate_checks='
	check "[$name] 12 negotiations took the gate" "[ \$(ctl_stat gate_holds) -ge 12 ]"
	check "[$name] every hold released by its SPI, none timed out" "[ \$(ctl_stat gate_timeouts) = 0 ] && [ \$(ctl_stat gate_released) = \$(ctl_stat gate_holds) ]"
	check "[$name] 12 inbound SPIs assigned" "[ \$(ctl_stat spi_assigned) = 12 ]"
	check "[$name] no ambiguous or unknown SPI" "[ \$(ctl_stat spi_ambiguous) = 0 ] && [ \$(ctl_stat spi_unknown) = 0 ]"
	check "[$name] negotiations were held, then released, none expired" "[ \$(ctl_stat held) -ge 1 ] && [ \$(ctl_stat held_released) = \$(ctl_stat held) ] && [ \$(ctl_stat held_expired) = 0 ] && [ \$(ctl_stat held_full) = 0 ]"
	rel=$(ctl_stat gate_released)
	echo "gate holds released: $rel, max $(ctl_statmax gate_held_ms_max) ms, total $(ctl_stat gate_held_ms_total) ms; held negotiations: $(ctl_stat held), longest wait $(ctl_statmax held_wait_ms_max) ms, total $(ctl_stat held_wait_ms_total) ms"
'
run_pass raw "" "" "$gate_checks"
run_pass natt --natt "" "$gate_checks"
run_pass ports --natt "natt-ports 40000-40009" '
	check "[$name] no gate needed" "[ \$(ctl_stat gate_holds) = 0 ] && [ \$(ctl_stat held) = 0 ]"
	check "[$name] no ambiguous or unknown SPI" "[ \$(ctl_stat spi_ambiguous) = 0 ] && [ \$(ctl_stat spi_unknown) = 0 ]"
	ports=$("$PYTHON" -c "import json,sys; print(sorted({json.loads(l)[\"sport\"] for l in open(sys.argv[1]) if json.loads(l)[\"kind\"] in (\"ike-natt\", \"esp-udp\")}))" "$tmp/server.log")
	echo "NAT-T source ports the server saw: $ports"
	check "[$name] six NAT-T ports: 4500 and five from the range" "\"$PYTHON\" -c \"import sys; p=$ports; sys.exit(not (len(p) == 6 and 4500 in p and all(40000 <= x <= 40009 for x in p if x != 4500)))\""
	check "[$name] table shows the translated ports" "[ \$(grep -c \"NAT-T port 400\" \"$tmp/sessions-$name.txt\") = 5 ]"
'
if [ $fail != 0 ]; then
	for f in "$tmp"/daemon-*.log; do echo "--- $f"; tail -30 "$f"; done
fi
echo "shared (scapy): $pass passed, $fail failed"
[ $fail = 0 ]
