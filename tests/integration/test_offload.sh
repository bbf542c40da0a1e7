#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# offload on: three IPsec clients behind the router (raw ESP and ESP in UDP
# with real encryption both ways, IKE headers).  espmasqd hands each
# established ESP SA to the nft table of --print-rules=offload after its
# first packets, and each established IKEv2 SA's INFORMATIONAL exchanges
# after their first; the kernel rewrites the rest.  Checks that every reply
# arrives and nothing foreign does, that the kernel carried most of the ESP
# and set the mark as espmasqd would, that the SAs' counters add up to the
# packets sent (the daemon's share plus the kernel's, read back by its
# scans), that a flushed client's entries are removed, a reload empties the
# maps and they fill again, and that stopping espmasqd leaves them empty.
# The first daemon reads the kernel's counters entry by entry
# (offload-read each, what auto does for big maps), the later ones dump
# the maps (auto with small ones); the last two run auto 0, which reads
# every map entry by entry, the second behind failnamed.so, a kernel that
# resets elements only in dumps, so that auto falls back.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
GEN=${BENCH_GEN:-$here/../../build/bench_gen}
EMP=emo$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
K=30

need_root
if [ ! -x "$GEN" ]; then
	echo "offload: $GEN missing (make bench-tools)"
	exit 1
fi
if ! command -v nft >/dev/null; then
	echo "offload: nft missing (make deps installs it)"
	exit 1
fi
# the offload needs Linux 6.5 (counters read with a reset, elements
# removed whether there or not): on an older kernel there is nothing to
# test, and espmasqd says so itself (stats why=kernel-too-old)
kv=$(uname -r | awk -F. '{ printf "%d", $1 * 1000 + $2 }')
if [ "$kv" -lt 6005 ]; then
	echo "offload: not run: Linux $(uname -r) is older than 6.5"
	exit 0
fi
topo_up 3
topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13
# whole checksums from the senders: the captures then show what the
# kernel's incremental updates made of them
topo_offload off
cat > "$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.13
server 203.0.113.100/31
mark 0x100/0xff00
queues 0-1
control $tmp/espmasq.sock
offload on
offload-scan 1
CONF
"$ESPMASQD" -f "$tmp/espmasq.conf" -t >/dev/null || exit 1

# without the table, espmasqd says so and translates everything itself;
# with auto (no offload line) as with on, it takes the table when it comes
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
cp "$tmp/espmasq.conf" "$tmp/on.conf"
grep -v "^offload on" "$tmp/on.conf" >"$tmp/espmasq.conf"
daemon_start daemon0.log
check "daemon up without the offload table" '[ -S "$tmp/espmasq.sock" ]'
# jstat SCOPE KEY: KEY of the stats record of SCOPE, summed over records
jstat() { ctl -j stats | "$PYTHON" -c '
import json, sys
s = 0
for line in sys.stdin:
    r = json.loads(line)
    if r.get("scope") == sys.argv[1] and sys.argv[2] in r:
        v = r[sys.argv[2]]
        s = v if not str(v).isdigit() else (s or 0) + int(v)
print(s)' "$1" "$2"; }
check "stats: offload off, table missing" \
	'[ "$(jstat offload state)" = off ] && [ "$(jstat offload why)" = table-missing ]'
check "log: offload table missing named, auto said" \
	'grep -q "notice: offload auto: cannot use table ip espmasq_offload" "$tmp/daemon0.log"'
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload |
	ns r nft -f - || { echo "offload rules failed"; exit 1; }
for _ in $(seq 30); do
	[ "$(jstat offload state)" = on ] && break; sleep 0.1
done
check "auto: the table loaded later is taken" \
	'[ "$(jstat offload state)" = on ] &&
	 grep -q "offload auto: .* (loaded after espmasqd started)" "$tmp/daemon0.log"'
kill "$pid"; wait "$pid" 2>/dev/null
cp "$tmp/on.conf" "$tmp/espmasq.conf"
echo "offload-read each" >>"$tmp/espmasq.conf"

"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload |
	ns r nft -f - || { echo "offload rules failed"; exit 1; }
# a stale entry of an earlier run: gone when the daemon starts
ns r nft add element ip espmasq_offload in_esp \
	'{ 203.0.113.100 . 203.0.113.11 . 0x7777 : 192.0.2.99 }'
# what the kernel marks: inbound ESP routed to the clients
ns r nft -f - <<'NFT'
table ip emo_count {
	chain seen {
		type filter hook forward priority 0; policy accept;
		ip daddr 192.0.2.0/24 meta l4proto esp meta mark & 0xff00 == 0x100 counter
		ip daddr 192.0.2.0/24 meta l4proto esp counter
	}
}
NFT
daemon_start daemon.log
check "daemon is up" '[ -S "$tmp/espmasq.sock" ]'
check "stats: offload on" '[ "$(jstat offload state)" = on ]'
elems() { ns r nft -j list map ip espmasq_offload "$1" | "$PYTHON" -c '
import json, sys
n = 0
for o in json.load(sys.stdin)["nftables"]:
    if "map" in o:
        n += len(o["map"].get("elem", []))
print(n)'; }
check "the earlier run's entry is gone" '[ "$(elems in_esp)" = 0 ]'

# server_up: the peer server, in place of any earlier one
server_up() {
	ip netns pids "${EMP}s" | xargs -r kill 2>/dev/null
	sleep 0.5
	ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 \
		--clients 3 --log "$tmp/server.log" --duration 25
}

run_clients() {
	local i start
	start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
	for i in 1 2 3; do
		ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
			--addr "192.0.2.$((10 + i))" --server 203.0.113.100 \
			--natt --count $K --start-at "$start" --timeout 15 \
			--result "$tmp/res-$i.json"
	done
	for i in 1 2 3; do
		for _ in $(seq 250); do
			[ -s "$tmp/res-$i.json" ] && break; sleep 0.1
		done
	done
}

server_up
capture_start "$tmp"
run_clients
capture_stop "$tmp"
for i in 1 2 3; do
	r=$tmp/res-$i.json
	check "client $i wrote a result" '[ -s "$r" ]' || continue
	echo "client $i: $(cat "$r")"
	check "client $i all $K ESP replies" '[ "$(jq_ "$r" "d[\"esp_ok\"]")" = $K ]'
	check "client $i all $K ESP-in-UDP replies" '[ "$(jq_ "$r" "d[\"esp_udp_ok\"]")" = $K ]'
	check "client $i IKEv2 reply" '[ "$(jq_ "$r" "d[\"ike_v2_ok\"]")" = True ]'
	check "client $i received nothing foreign" '[ "$(jq_ "$r" "d[\"foreign\"]")" = 0 ]'
	check "client $i capture: checksums good" 'check_checksums "$tmp/c$i.pcap"'
done
# the server saw every ESP packet from an alias, none from inside
check "server: ESP only from the aliases" \
	'! grep "\"kind\": \"esp" "$tmp/server.log" | grep -q "\"src\": \"192.0.2"'
check "server: $((3 * K)) raw ESP packets" \
	'[ "$(grep -c "\"kind\": \"esp\"" "$tmp/server.log")" = $((3 * K)) ]'

echo "--- offload maps:"
for m in in_esp out_esp in_udp out_udp; do echo "$m: $(elems $m)"; done
check "kernel holds 3 inbound raw ESP entries" '[ "$(elems in_esp)" = 3 ]'
check "kernel holds 3 outbound raw ESP entries" '[ "$(elems out_esp)" = 3 ]'
check "kernel holds 3 inbound ESP-in-UDP entries" '[ "$(elems in_udp)" = 3 ]'
check "kernel holds 3 outbound ESP-in-UDP entries" '[ "$(elems out_udp)" = 3 ]'
check "mark map entries exist" \
	'ns r nft list map ip espmasq_offload in_esp_mark | grep -q "jump mark_00000100_0000ff00"'

# every inbound raw ESP packet got the mark, from whichever did it
fwd=$(ns r nft list chain ip emo_count seen | grep -o "packets [0-9]*" | awk '{print $2}' | tr '\n' ' ')
echo "forwarded inbound ESP: marked, all: $fwd"
check "every inbound raw ESP packet marked" \
	'read -r a b <<<"$fwd"; [ "$a" = $((3 * K)) ] && [ "$b" = $((3 * K)) ]'

sleep 2.5		# two scans: the kernel's counts reach the table
ctl stats | grep -A2 "^offload"
daemon_esp=$(jstat queue kind_esp)
echo "raw ESP the daemon decided: $daemon_esp of $((6 * K))"
check "the kernel carried most raw ESP" '[ "$daemon_esp" -gt 0 ] && [ "$daemon_esp" -le 12 ]'
check "the kernel's count read back" \
	'[ "$(jstat offload packets)" -ge $((12 * K - 24)) ]'
offl=$(jstat queue offloaded)
# the peers use one SPI for raw ESP and ESP in UDP: 6 SAs, each with an
# entry for each encapsulation; and each client's IKEv2 SA on 4500 one
# inbound (the server's INFORMATIONAL reply is the first to show both
# SPIs)
check "15 entries handed over" '[ "$offl" = 15 ]'
check "kernel holds 3 inbound NAT-T IKE entries" '[ "$(elems in_ike_natt)" = 3 ]'
check "IKE SAs show the kernel carries them inbound" \
	'[ "$(ctl -j sessions | grep "\"kind\": *\"ike\"" | grep -c "\"offloaded\": *\"in\"")" = 3 ]'
check "no offload errors" \
	'[ "$(jstat queue offload_errors)" = 0 ] && [ "$(jstat offload errors)" = 0 ]'
# each ESP SA counted every one of its packets: K raw, K in UDP
ctl sessions
sas=$(ctl -j sessions | grep '"kind": *"esp-')
check "6 ESP SAs, both encapsulations offloaded" \
	'[ "$(grep -c "\"offloaded\": *\"esp+udp\"" <<<"$sas")" = 6 ]'
check "each ESP SA counted its $((2 * K)) packets" \
	'[ "$(grep -c "\"pkts\": *\"*$((2 * K))\"*," <<<"$sas")" = 6 ]'

check "offload-scan written: a scan every 1000 ms" \
	'[ "$(jstat offload scan_every_ms)" = 1000 ]'
check "read one by one: every entry" \
	'[ "$(jstat offload read_each)" = "$(jstat offload entries)" ] &&
	 [ "$(jstat offload read_each)" -ge 15 ]'

# an entry removed by hand: the next read misses it, and the SA is handed
# over again by its next packet
# (client 1's, whose session is flushed below)
a1=$(ctl -j sessions | "$PYTHON" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r.get("type") == "session" and r.get("client") == "192.0.2.11":
        print(r["alias"])')
ns r nft delete element ip espmasq_offload in_ike_natt \
	"{ $(ns r nft list map ip espmasq_offload in_ike_natt |
	     grep -o "203.0.113.100 \. $a1 \. [0-9a-fx]*") }"
sleep 1.5
check "an entry gone from the kernel: counted missing" \
	'[ "$(jstat offload missing)" = 1 ] && [ "$(elems in_ike_natt)" = 2 ]'
check "...and its SA no longer shows it offloaded" \
	'[ "$(ctl -j sessions | grep "\"kind\": *\"ike\"" | grep -c "\"offloaded\": *\"in\"")" = 2 ]'

# a flushed client: its entries go with its SAs
ctl flush client 192.0.2.11 >/dev/null
sleep 0.5
check "flushed client's entries removed" \
	'[ "$(elems in_esp)" = 2 ] && [ "$(elems out_esp)" = 2 ] && [ "$(elems out_udp)" = 2 ] &&
	 [ "$(elems in_ike_natt)" = 2 ]'
check "removed with their SAs, none left stale" \
	'[ "$(jstat offload gone_removed)" = 4 ] && [ "$(jstat offload stale_removed)" = 0 ]'

# a reload empties the maps; the next packets hand the SAs over again
ctl reload >/dev/null
check "reload empties the maps" '[ "$(elems out_esp)" = 0 ]'
rm -f "$tmp"/res-*.json
: >"$tmp/server.log"
server_up
run_clients
for i in 1 2 3; do
	check "after reload: client $i all $K ESP replies" \
		'[ "$(jq_ "$tmp/res-$i.json" "d[\"esp_ok\"]")" = $K ]'
done
check "after reload: entries again" '[ "$(elems out_esp)" = 3 ]'

# IKE: the INFORMATIONAL exchanges of established IKEv2 SAs (bench/gen:
# 3 clients, 2 IKE SAs each, both SPIs set) are the kernel's after their
# first packet each way; the peer server answers each one
rmac=$(ip -n "${EMP}r" -br link show br0 | awk '{print $3}')
ike0=$(jstat queue kind_ike)
ns c1 "$GEN" -i c-e -M "$rmac" -c 3 -a 192.0.2.11 -d 203.0.113.100 -k 2 \
	-m 0,0,1 -r 3000 -n 900 >/dev/null
sleep 0.5
ike_daemon=$(( $(jstat queue kind_ike) - ike0 ))
ike_srv=$(grep '"kind": "ike"' "$tmp/server.log" | grep -c '"ispi": "1ce0000')
echo "IKE INFORMATIONAL: the daemon decided $ike_daemon of 1800, the server got $ike_srv of 900"
echo "out_ike: $(elems out_ike), in_ike: $(elems in_ike)"
check "IKE: the server got all 900, from the aliases only" \
	'[ "$ike_srv" = 900 ] &&
	 ! grep "\"ispi\": \"1ce0000" "$tmp/server.log" | grep -q "\"src\": \"192.0.2"'
check "IKE: 6 outbound and 6 inbound entries" \
	'[ "$(elems out_ike)" = 6 ] && [ "$(elems in_ike)" = 6 ]'
check "IKE: their mark entries" \
	'[ "$(ns r nft list map ip espmasq_offload out_ike_mark | grep -c "jump mark_00000100_0000ff00")" = 6 ]'
check "IKE: the kernel carried most of it" \
	'[ "$ike_daemon" -ge 12 ] && [ "$ike_daemon" -le 60 ]'
sleep 2.5		# two scans
ikes=$(ctl -j sessions | grep '"ispi": *"1ce0000')
check "IKE: 6 SAs offloaded both ways" \
	'[ "$(grep -c "\"offloaded\": *\"out+in\"" <<<"$ikes")" = 6 ]'
check "IKE: each SA counted its 300 packets" \
	'[ "$(grep -c "\"pkts\": *\"*300\"*," <<<"$ikes")" = 6 ]'
# the stats: 12 IKE flows (and the peers' 3 inbound NAT-T ones), and
# what the kernel carried of them
check "IKE: the stats count the kernel's IKE entries and packets" \
	'[ "$(jstat offload ike_entries)" = 15 ] &&
	 [ "$(jstat offload ike_packets)" -ge $((1800 - 12)) ]'

kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "stopped: every map empty" \
	'[ "$(elems in_esp)$(elems out_esp)$(elems in_udp)$(elems out_udp)$(elems in_ike)$(elems out_ike)" = 000000 ]'
check "stopped: mark maps empty" \
	'! ns r nft list map ip espmasq_offload in_esp_mark | grep -q jump'

# an outdated table: the file gained a mark its chain is missing for.
# Client 3's entries are refused; the others' are not lost with them (a
# refused entry aborts its whole batch, so the rest go again alone)
grep -v "^offload-read" "$tmp/espmasq.conf" >"$tmp/dump.conf"
mv "$tmp/dump.conf" "$tmp/espmasq.conf"
echo "mark client 192.0.2.13 0x300/0xff00" >>"$tmp/espmasq.conf"
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload |
	ns r nft -f - || { echo "offload rules failed"; exit 1; }
ns r nft delete chain ip espmasq_offload mark_00000300_0000ff00
daemon_start daemon2.log
rm -f "$tmp"/res-*.json
server_up
run_clients
for i in 1 2 3; do
	check "outdated table: client $i all $K ESP replies" \
		'[ "$(jq_ "$tmp/res-$i.json" "d[\"esp_ok\"]")" = $K ]'
	check "outdated table: client $i all $K ESP-in-UDP replies" \
		'[ "$(jq_ "$tmp/res-$i.json" "d[\"esp_udp_ok\"]")" = $K ]'
done
check "outdated table: client 3's 5 entries refused, counted" \
	'[ "$(jstat queue offload_errors)" = 5 ]'
check "outdated table: the other clients' 10 entries taken" \
	'[ "$(jstat queue offloaded)" = 10 ]'
check "outdated table: the kernel holds theirs only" \
	'[ "$(elems out_esp)" = 2 ] && [ "$(elems in_esp)" = 2 ] &&
	 ! ns r nft list map ip espmasq_offload out_esp | grep -q 192.0.2.13'
check "outdated table: the refusal logged" \
	'grep -q "refused an offload entry" "$tmp/daemon2.log"'
# many new SAs at once (bench/gen flat out: the 3 clients, 8 SPIs each,
# raw and in UDP): the worker's batches then mix client 3's refused
# entries with the others', which must all get in
ns c1 "$GEN" -i c-e -M "$rmac" -c 3 -a 192.0.2.11 -d 203.0.113.100 -k 8 \
	-m 1,1,0 -r 0 -n 3000 >/dev/null
sleep 0.5
echo "after gen: offloaded $(jstat queue offloaded), refused $(jstat queue offload_errors)"
check "burst of new SAs: client 3's 16 more refused" \
	'[ "$(jstat queue offload_errors)" = 21 ]'
check "burst of new SAs: the other 32 all taken" \
	'[ "$(jstat queue offloaded)" = 42 ] && [ "$(elems out_esp)" = 18 ] &&
	 [ "$(elems out_udp)" = 18 ]'
kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

# espmasqctl reads the kernel's counters before it answers: with auto and
# offload-scan 15, the IKE SAs count all 300 of their messages at once
grep -v "^offload\|^mark client 192.0.2.13" "$tmp/on.conf" >"$tmp/espmasq.conf"
echo "offload-scan 15" >>"$tmp/espmasq.conf"
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload |
	ns r nft -f - || { echo "offload rules failed"; exit 1; }
daemon_start daemon3.log
check "auto: offload on at start" '[ "$(jstat offload state)" = on ]'
: >"$tmp/server.log"
server_up
sleep 1
ns c1 "$GEN" -i c-e -M "$rmac" -c 3 -a 192.0.2.11 -d 203.0.113.100 -k 2 \
	-m 0,0,1 -r 3000 -n 900 >/dev/null
sleep 0.5
ikes=$(ctl -j sessions | grep '"ispi": *"1ce0000')
check "auto: each IKE SA counted its 300 packets, read on request" \
	'[ "$(grep -c "\"pkts\": *\"*300\"*," <<<"$ikes")" = 6 ]'
# a reload that rules the offload out (auto, a timeout under 2 s) empties
# the maps and queues everything; one that allows it again brings it back
offrec() { ctl -j stats | grep -c '"scope": *"offload"'; }
cp "$tmp/espmasq.conf" "$tmp/auto.conf"
# (an offload-scan written would be checked against it: an error)
grep -v "^offload-scan" "$tmp/auto.conf" >"$tmp/espmasq.conf"
echo "timeout nat-t 1s" >>"$tmp/espmasq.conf"
check "auto: a reload with a 1 s timeout is taken" 'ctl reload >/dev/null'
check "auto: ...offload off, the maps emptied" \
	'[ "$(offrec)" = 0 ] && [ "$(elems out_ike)" = 0 ] && [ "$(elems in_ike)" = 0 ]'
check "auto: ...and the log says why" \
	'grep -q "offload auto: off (a timeout under 2 s)" "$tmp/daemon3.log"'
cp "$tmp/auto.conf" "$tmp/espmasq.conf"
check "auto: a reload without it is taken" 'ctl reload >/dev/null'
check "auto: ...offload on again" '[ "$(jstat offload state)" = on ]'
server_up
sleep 1
ns c1 "$GEN" -i c-e -M "$rmac" -c 3 -a 192.0.2.11 -d 203.0.113.100 -k 2 \
	-m 0,0,1 -r 3000 -n 900 >/dev/null
sleep 0.5
check "auto: ...the IKE flows handed over again" \
	'[ "$(elems out_ike)" = 6 ] && [ "$(elems in_ike)" = 6 ]'
kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

# auto 0: every map that has entries is read entry by entry
cp "$tmp/on.conf" "$tmp/espmasq.conf"
echo "offload-read auto 0" >>"$tmp/espmasq.conf"
# ike_burst: 300 messages of each of the 6 IKE SAs of bench/gen, half
# each way, then two scans
ike_burst() {
	ns c1 "$GEN" -i c-e -M "$rmac" -c 3 -a 192.0.2.11 -d 203.0.113.100 \
		-k 2 -m 0,0,1 -r 3000 -n 900 >/dev/null
	sleep 2.5
}
# ike_run LOG: espmasqd (with $DAEMON_PRELOAD) under two bursts: the
# second is all the kernel's, read by what the first scans chose
ike_run() {
	daemon_start "$1"
	: >"$tmp/server.log"
	server_up
	sleep 1
	ike_burst
	ike_burst
}
# ike_pkts N: how many of the IKE SAs of bench/gen counted N messages
ike_pkts() { ctl -j sessions | grep '"ispi": *"1ce0000' |
	grep -c "\"pkts\": *\"*$1\"*,"; }
ike_run daemon4.log
check "auto 0: the IKE SAs' entries read one by one" \
	'[ "$(jstat offload read_each)" -ge 12 ] &&
	 [ "$(jstat offload read_each)" = "$(jstat offload entries)" ]'
check "auto 0: each IKE SA counted its 600 packets" '[ "$(ike_pkts 600)" = 6 ]'
check "auto 0: stats each_failed 0" '[ "$(jstat offload each_failed)" = 0 ]'
kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

# a kernel that resets elements in a dump only (failnamed.so turns every
# named read into a request it does not know): auto says why and dumps
# the maps, whose counts still reach the SAs, until a reload tries again
FAILNAMED_SO=${FAILNAMED_SO:-$here/../../build/failnamed.so}
nolog="cannot read the kernel's counters entry by entry (Invalid argument): dumping the maps instead until a reload"
if [ -f "$FAILNAMED_SO" ]; then
	DAEMON_PRELOAD=$FAILNAMED_SO
	ike_run daemon5.log
	check "named reads refused: auto logs why, once" \
		'[ "$(grep -cF "$nolog" "$tmp/daemon5.log")" = 1 ]'
	check "...and dumps every map instead" \
		'[ "$(jstat offload read_each)" = 0 ] &&
		 [ "$(jstat offload entries)" -ge 12 ] &&
		 [ "$(jstat offload scan_errors)" = 0 ] &&
		 [ "$(jstat offload each_failed)" = 1 ]'
	check "...each IKE SA still counted its 600 packets" \
		'[ "$(ike_pkts 600)" = 6 ]'
	ctl reload >/dev/null
	ike_burst
	ike_burst
	check "...a reload tries the named read again" \
		'[ "$(grep -cF "$nolog" "$tmp/daemon5.log")" = 2 ] &&
		 [ "$(jstat offload read_each)" = 0 ] &&
		 [ "$(jstat offload scan_errors)" = 0 ] &&
		 [ "$(ike_pkts 1200)" = 6 ]'
	kill "$pid"
	DAEMON_PRELOAD=
else
	check "build/failnamed.so built (make integration builds it)" false
fi

if [ $fail != 0 ]; then
	echo "--- daemon logs:"
	cat "$tmp/daemon0.log" "$tmp/daemon.log" "$tmp/daemon2.log" \
		"$tmp/daemon3.log" "$tmp/daemon4.log" "$tmp/daemon5.log"
fi
echo "offload: $pass passed, $fail failed"
[ $fail = 0 ]
