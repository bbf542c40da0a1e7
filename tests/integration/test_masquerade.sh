#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Three IPsec clients behind one router running espmasqd use one NAT-T-less
# VPN server at the same time (IKEv2 and IKEv1 headers from udp/500, NAT-T
# from udp/4500, raw ESP and ESP-in-UDP with real encryption both ways),
# once with veth checksum offload off and once on; then two of them use a
# second server too.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emm$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
K=5

need_root
topo_up 3
topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13
cat > "$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.12
pin 192.0.2.13 203.0.113.13
server 203.0.113.100/31
queues 0-1
cpu 0 0
cpu 1 1
control $tmp/espmasq.sock
CONF
"$ESPMASQD" -f "$tmp/espmasq.conf" -t >/dev/null || exit 1
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
check "daemon is up" '[ -S "$tmp/espmasq.sock" ]'
# the two workers run pinned to CPU 0 and CPU 1
dpid=$(pgrep -f "espmasqd -f $tmp/espmasq.conf" | head -1)
pins=$(cat /proc/"$dpid"/task/*/status 2>/dev/null | awk '/Cpus_allowed_list/ {print $2}' | sort | tr '\n' ' ')
echo "thread CPU affinities: $pins"
check "workers pinned to CPUs 0 and 1" 'tr " " "\\n" <<<"$pins" | grep -qx 0 && tr " " "\\n" <<<"$pins" | grep -qx 1'

# run_clients SERVER NATT CLIENTS... : all clients start at one instant
run_clients() {
	local server=$1 natt=$2 i; shift 2
	local start
	start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
	for i in "$@"; do
		ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
			--addr "192.0.2.$((10 + i))" --server "$server" $natt \
			--count $K --start-at "$start" --timeout 12 \
			--result "$tmp/res-$i.json"
	done
	sleep 4.5
	echo "--- espmasqctl sessions while traffic flows:"
	"$ESPMASQCTL" -s "$tmp/espmasq.sock" sessions
	for i in "$@"; do
		for _ in $(seq 150); do
			[ -s "$tmp/res-$i.json" ] && break; sleep 0.1
		done
	done
}

# aliases_of LOG SERVER CLIENT: the outer sources the server saw for one
# client (identified by the ESP SPI it decrypted with, or by the IKE SPIs
# the client reported using)
aliases_of() {
	"$PYTHON" - "$1" "$2" "$3" "$tmp/res-$3.json" <<'PY'
import json, sys
log, server, i, res = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ispis = set(json.load(open(res))["ispis"])
seen = set()
for line in open(log):
    e = json.loads(line)
    if e.get("dst") != server:
        continue
    if e.get("client") == i or e.get("ispi") in ispis:
        seen.add((e["src"], e["kind"], e.get("sport")))
print(" ".join(sorted("%s/%s/%s" % s for s in seen)))
PY
}

declare -A alias_100
for offload in off on; do
	echo "=== offload $offload"
	topo_offload "$offload"
	rm -f "$tmp"/res-*.json "$tmp"/*.pcap
	: >"$tmp/server.log"
	capture_start "$tmp"
	ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 \
		--addr 203.0.113.101 --clients 3 --log "$tmp/server.log" \
		--duration 22
	run_clients 203.0.113.100 --natt 1 2 3
	capture_stop "$tmp"
	for i in 1 2 3; do
		r=$tmp/res-$i.json
		check "[$offload] client $i wrote a result" '[ -s "$r" ]' || continue
		echo "client $i: $(cat "$r")"
		check "[$offload] client $i IKEv2 reply" '[ "$(jq_ "$r" "d[\"ike_v2_ok\"]")" = True ]'
		check "[$offload] client $i IKEv1 reply" '[ "$(jq_ "$r" "d[\"ike_v1_ok\"]")" = True ]'
		check "[$offload] client $i NAT-T IKE reply" '[ "$(jq_ "$r" "d[\"natt_ike_ok\"]")" = True ]'
		check "[$offload] client $i all $K ESP replies" '[ "$(jq_ "$r" "d[\"esp_ok\"]")" = $K ]'
		check "[$offload] client $i all $K ESP-in-UDP replies" '[ "$(jq_ "$r" "d[\"esp_udp_ok\"]")" = $K ]'
		check "[$offload] client $i received nothing foreign" '[ "$(jq_ "$r" "d[\"foreign\"]")" = 0 ]'
		seen=$(aliases_of "$tmp/server.log" 203.0.113.100 "$i")
		echo "server saw client $i as: $seen"
		srcs=$(tr ' ' '\n' <<<"$seen" | cut -d/ -f1 | sort -u)
		check "[$offload] client $i arrived from exactly one alias" '[ "$(grep -c . <<<"$srcs")" = 1 ]'
		check "[$offload] client $i never from its inside address" '! grep -q 192.0.2 <<<"$srcs"'
		check "[$offload] client $i IKE kept port 500" 'grep -q "/ike/500" <<<"$seen"'
		check "[$offload] client $i NAT-T kept port 4500" 'grep -q "/ike-natt/4500" <<<"$seen" && grep -q "/esp-udp/4500" <<<"$seen"'
		check "[$offload] client $i keeps its alias across runs" \
			'[ -z "${alias_100[$i]:-}" ] || [ "${alias_100[$i]}" = "$srcs" ]'
		alias_100[$i]=$srcs
		check "[$offload] client $i capture: checksums good" 'check_checksums "$tmp/c$i.pcap"'
	done
	check "[$offload] three different aliases" \
		'[ "$(printf "%s\n" "${alias_100[@]}" | sort -u | grep -c .)" = 3 ]'
	check "[$offload] pinned client 3 on its pinned alias" '[ "${alias_100[3]}" = 203.0.113.13 ]'
	check "[$offload] server capture: checksums good" 'check_checksums "$tmp/s.pcap"'
	check "[$offload] server decrypted nothing it should not" '! grep -q undecryptable "$tmp/server.log"'
	wait_srv=0
	while pgrep -f "peer.py server" >/dev/null && [ $wait_srv -lt 100 ]; do
		sleep 0.2; wait_srv=$((wait_srv + 1)); done
done

echo "=== second server: aliases are reused across servers"
rm -f "$tmp"/res-*.json
: >"$tmp/server.log"
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 \
	--addr 203.0.113.101 --clients 3 --log "$tmp/server.log" --duration 18
run_clients 203.0.113.101 "" 1 2
for i in 1 2; do
	r=$tmp/res-$i.json
	check "[server 2] client $i all $K ESP replies" '[ -s "$r" ] && [ "$(jq_ "$r" "d[\"esp_ok\"]")" = $K ]'
	check "[server 2] client $i received nothing foreign" '[ -s "$r" ] && [ "$(jq_ "$r" "d[\"foreign\"]")" = 0 ]'
	seen=$(aliases_of "$tmp/server.log" 203.0.113.101 "$i" | tr ' ' '\n' | cut -d/ -f1 | sort -u)
	echo "server 203.0.113.101 saw client $i as: $seen"
	alias_101[$i]=$seen
done
# clients 1 and 2 hold both unpinned aliases toward .100 and are still
# alive there, so toward .101 they can only work by reusing them
check "[server 2] two different aliases toward the second server" \
	'[ "${alias_101[1]}" != "${alias_101[2]}" ] && [ -n "${alias_101[1]}" ] && [ -n "${alias_101[2]}" ]'
check "[server 2] the same aliases serve both servers" \
	'[ "$(printf "%s\n" "${alias_101[1]}" "${alias_101[2]}" | sort | tr "\n" " ")" = "$(printf "%s\n" "${alias_100[1]}" "${alias_100[2]}" | sort | tr "\n" " ")" ]'

echo "--- espmasqctl stats:"
"$ESPMASQCTL" -s "$tmp/espmasq.sock" stats
sessions=$("$ESPMASQCTL" -s "$tmp/espmasq.sock" sessions)
check "session table lists 5 sessions" '[ "$(grep -c "^192.0.2" <<<"$sessions")" = 5 ]'
check "session table shows ESP SPIs both ways" 'grep -q "esp-out spi 00001001" <<<"$sessions" && grep -q "esp-in  spi 00002001" <<<"$sessions"'
# ctl_raw long|unknown|garbage: first line of the daemon's answer
ctl_raw() {
	"$PYTHON" - "$tmp/espmasq.sock" "$1" <<'PY'
import socket, sys
req = {"long": b"x" * 2000, "unknown": b"frobnicate\n",
       "garbage": bytes(range(1, 256)) + b"\n"}[sys.argv[2]]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(req)
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode(errors="replace").splitlines()[0])
PY
}
check "control: over-long request refused" '[ "$(ctl_raw long)" = "error request too long" ]'
check "control: unknown command refused" '[ "$(ctl_raw unknown)" = "error unknown command '"'"'frobnicate'"'"'" ]'
check "control: binary garbage answered" 'ctl_raw garbage | grep -q "^error"'
check "espmasqctl watch with an argument is refused, at once" \
	'timeout 5 "$ESPMASQCTL" -s "$tmp/espmasq.sock" watch now 2>&1 | grep -q "watch takes no arguments"'
stats=$("$ESPMASQCTL" -s "$tmp/espmasq.sock" stats)
check "stats show the kernel queue counters" 'grep -q "kernel_queue_dropped=0" <<<"$stats"'
check "daemon still running" 'pgrep -f "espmasqd -f $tmp/espmasq.conf" >/dev/null'
if [ $fail != 0 ]; then
	echo "--- daemon log:"; cat "$tmp/daemon.log"
fi
echo "masquerade: $pass passed, $fail failed"
[ $fail = 0 ]
