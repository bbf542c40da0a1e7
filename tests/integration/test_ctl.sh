#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# espmasqctl on a live table: three scapy clients through espmasqd toward
# two servers (five sessions), then every session filter and combinations
# of them against the unfiltered table, in text and in JSON; bad filters
# refused with a message; `aliases` (pinned, free, shared, drained after a
# reload); `flush` refused without `all`, `flush client`, `flush all`, and
# traffic making sessions again afterwards; `watch` in text and JSON sees
# sessions created, their SAs and their expiry; slow, stuck and polling
# control clients leave the packet rate as it was.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emc$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
K=5

# The checks' Python: JSON validation and what each filter should select,
# computed from the unfiltered table independently of the daemon.
cat >"$tmp/h.py" <<'PY'
import ipaddress, json, sys

def load(path):
    """Every line a JSON object; sessions with their SAs."""
    recs = [json.loads(l) for l in open(path) if l.strip()]
    for r in recs:
        assert isinstance(r, dict) and "type" in r, r
    sess = {r["id"]: dict(r, sas=[]) for r in recs if r["type"] == "session"}
    for r in recs:
        if r["type"] == "sa":
            sess[r["session"]]["sas"].append(r)
    return recs, sess

def spis(s):
    out = set()
    for a in s["sas"]:
        for k in ("spi", "ispi", "rspi"):
            if k in a:
                out.add(int(a[k], 16))
    return out

def keep(s, words):
    f = dict(zip(words[::2], words[1::2]))
    if "client" in f and s["client"] != f["client"]:
        return False
    if "alias" in f and s["alias"] != f["alias"]:
        return False
    if "server" in f and ipaddress.ip_address(s["server"]) not in \
            ipaddress.ip_network(f["server"], strict=False):
        return False
    if "spi" in f and int(f["spi"], 16) not in spis(s):
        return False
    return True

def row(s):
    return "%s %s %s" % (s["client"], s["alias"], s["server"])

def sa_key(a):
    return tuple(a.get(k) for k in ("kind", "spi", "ispi", "rspi"))

cmd, path = sys.argv[1], sys.argv[2]
if cmd == "expect":                     # ALL WORDS...: the rows to show
    _, sess = load(path)
    rows = [row(s) for s in sess.values() if keep(s, sys.argv[3:])]
elif cmd == "rows":                     # ALL GOT: the rows shown, each
    _, all_ = load(path)                # with the same SAs as in ALL
    _, got = load(sys.argv[3])
    by_row = {row(s): s for s in all_.values()}
    rows = []
    for s in got.values():
        want = sorted(map(sa_key, by_row[row(s)]["sas"]))
        if sorted(map(sa_key, s["sas"])) != want:
            sys.exit("SAs of %s differ" % row(s))
        rows.append(row(s))
elif cmd == "aliases":                  # ALL GOT: one line per alias
    _, sess = load(path)
    recs, _ = load(sys.argv[3])
    rows = []
    for r in recs:
        assert r["type"] == "alias", r
        mine = [s for s in sess.values() if s["alias"] == r["addr"]]
        clients = sorted({s["client"] for s in mine})
        servers = sorted({s["server"] for s in mine})
        assert r["sessions"] == len(mine), (r, mine)
        assert sorted(filter(None, r.get("clients", "").split(","))) == clients, r
        assert sorted(filter(None, r.get("servers", "").split(","))) == servers, r
        shared = len({s["server"] for s in mine}) < len(mine)
        assert r["shared"] == int(shared), r
        rows.append("%s pinned=%s to=%s drained=%s sessions=%s" % (
            r["addr"], r["pinned"], r.get("pinned_to", "-"), r["drained"],
            r["sessions"]))
elif cmd == "field":                    # ALL KEY WORDS...: a value of the
    _, sess = load(path)                # first matching session or SA
    key, words = sys.argv[3], sys.argv[4:]
    for s in sorted(sess.values(), key=row):
        if keep(s, words):
            for a in s["sas"]:
                if int(a.get(key, "0"), 16):
                    print(a[key])
                    sys.exit(0)
    sys.exit(1)
elif cmd == "aligned":                  # TEXT: every cell starts under
    lines = open(path).read().splitlines()  # its heading
    head = lines[0]
    starts = [head.index(w) for w in ("USE", "PINNED TO", "SESSIONS",
                                      "CLIENTS", "SERVERS")]
    for l in lines[1:]:
        for p in starts:
            if l[p - 2:p] != "  " or l[p] == " ":
                sys.exit("misaligned at %d: %s" % (p, l))
    rows = []
print("\n".join(sorted(rows)))
PY
h() { "$PYTHON" "$tmp/h.py" "$@"; }

need_root
topo_up 3
topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.14
# conf ALIASES: the configuration, with those unpinned aliases
conf() {
	cat <<CONF
inside 192.0.2.0/24
outside r-out
alias $1
pin 192.0.2.13 203.0.113.13
server 203.0.113.100/31
queues 0
control $tmp/espmasq.sock
CONF
}
conf 203.0.113.11-203.0.113.12 >"$tmp/espmasq.conf"
echo "alias 203.0.113.14" >>"$tmp/espmasq.conf"
"$ESPMASQD" -f "$tmp/espmasq.conf" -t >/dev/null || exit 1
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
check "daemon is up" '[ -S "$tmp/espmasq.sock" ]'
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 \
	--addr 203.0.113.101 --clients 3 --log "$tmp/server.log" --duration 120

# run_clients SERVER NATT CLIENTS... : all start at one instant; waits
# for every result
run_clients() {
	local server=$1 natt=$2 i start; shift 2
	start=$("$PYTHON" -c 'import time; print(time.time() + 1.5)')
	for i in "$@"; do
		rm -f "$tmp/res-$i.json"
		ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
			--addr "192.0.2.$((10 + i))" --server "$server" $natt \
			--count $K --start-at "$start" --timeout 12 \
			--result "$tmp/res-$i.json"
	done
	for i in "$@"; do
		for _ in $(seq 200); do
			[ -s "$tmp/res-$i.json" ] && break; sleep 0.1
		done
	done
}
esp_ok() {
	[ -s "$tmp/res-$1.json" ] && "$PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(not (d["esp_ok"] == int(sys.argv[2]) and d["foreign"] == 0))' \
		"$tmp/res-$1.json" $K
}

run_clients 203.0.113.100 --natt 1 2 3
for i in 1 2 3; do
	check "client $i through toward .100" 'esp_ok $i'
done
run_clients 203.0.113.101 "" 1 2
for i in 1 2; do
	check "client $i through toward .101" 'esp_ok $i'
done

echo "--- espmasqctl sessions:"
ctl sessions | tee "$tmp/all.txt"
ctl -j sessions >"$tmp/all.json"
check "unfiltered JSON: every line an object" 'h expect "$tmp/all.json" >/dev/null'
check "five sessions" '[ "$(h expect "$tmp/all.json" | grep -c .)" = 5 ]'
check "text and JSON list the same rows" \
	'[ "$(awk "/^192\\.0\\.2\\./ {print \$1, \$2, \$3}" "$tmp/all.txt" | sort)" = "$(h expect "$tmp/all.json")" ]'
alias1=$(awk '$1 == "192.0.2.11" && $3 == "203.0.113.100" {print $2}' "$tmp/all.txt")
alias2=$(awk '$1 == "192.0.2.12" && $3 == "203.0.113.100" {print $2}' "$tmp/all.txt")
unused=$(printf '%s\n' 203.0.113.11 203.0.113.12 203.0.113.14 |
	grep -vx -e "$alias1" -e "$alias2")
check "pinned client on its pin" 'grep -q "^192.0.2.13 *203.0.113.13 " "$tmp/all.txt"'
ispi3=$(h field "$tmp/all.json" ispi client 192.0.2.13)
rspi1=$(h field "$tmp/all.json" rspi client 192.0.2.11 server 203.0.113.101)
echo "client 1 on $alias1, client 2 on $alias2, $unused unused, an IKE SPI of client 3:" \
	"$ispi3, a responder SPI of client 1 toward .101: $rspi1"
check "found IKE SPIs to filter by" '[ -n "$ispi3" ] && [ -n "$rspi1" ]'
# an SPI as a person would type it: upper case, without leading zeros
ispi3_typed=$(sed 's/^0*//' <<<"$ispi3" | tr a-f A-F)
rspi1_typed=0x$rspi1

# same WORDS...: the filtered table shows exactly the rows (and their SAs)
# the filter selects from the whole table, in text and in JSON
same() {
	local want got_t got_j
	want=$(h expect "$tmp/all.json" "$@")
	got_t=$(ctl sessions "$@") || return 1
	ctl -j sessions "$@" >"$tmp/f.json" || return 1
	got_j=$(h rows "$tmp/all.json" "$tmp/f.json") || return 1
	if [ -z "$want" ]; then
		[ "$got_t" = "no sessions match" ] && [ -z "$got_j" ]
		return
	fi
	[ "$(awk '/^192\.0\.2\./ {print $1, $2, $3}' <<<"$got_t" | sort)" = "$want" ] &&
		[ "$got_j" = "$want" ]
}
# count N WORDS...: the filter selects N sessions
count() {
	local n=$1; shift
	[ "$(h expect "$tmp/all.json" "$@" | grep -c .)" = "$n" ]
}
while read -r n words; do
	# shellcheck disable=SC2086
	check "filter '$words' selects $n, text and JSON" \
		"count $n $words && same $words"
done <<EOF
2 client 192.0.2.11
1 client 192.0.2.13
0 client 192.0.2.99
2 server 203.0.113.101
3 server 203.0.113.100
5 server 203.0.113.100/31
2 server 203.0.113.101/32
5 server 203.0.113.0/24
0 server 198.51.100.0/24
2 alias $alias1
1 alias 203.0.113.13
0 alias $unused
2 spi 1001
2 spi 0x00002002
2 spi 0X2002
1 spi 2003
0 spi 3001
1 spi $ispi3_typed
1 spi $rspi1_typed
1 client 192.0.2.11 server 203.0.113.101
1 server 203.0.113.101 client 192.0.2.11
1 spi 1001 server 203.0.113.100
0 spi 1001 client 192.0.2.12
0 alias $alias1 client 192.0.2.12
2 client 192.0.2.12 alias $alias2 server 203.0.113.100/31 spi 2002
1 client 192.0.2.12 alias $alias2 server 203.0.113.101 spi 2002
0 client 192.0.2.12 alias $alias2 server 203.0.113.100/31 spi 2001
EOF
echo "--- espmasqctl sessions client 192.0.2.11 server 203.0.113.101:"
ctl sessions client 192.0.2.11 server 203.0.113.101

# bad WORDS... MESSAGE: refused with status 1 and that message, nothing
# on stdout
bad() {
	local msg=${!#} out rc
	out=$(ctl "${@:1:$#-1}" 2>"$tmp/err"); rc=$?
	[ $rc = 1 ] && [ -z "$out" ] && [ "$(cat "$tmp/err")" = "espmasqctl: $msg" ] ||
		{ echo "  got status $rc: $(cat "$tmp/err")"; return 1; }
}
check "bad client address" "bad sessions client x \"bad address 'x' for client\""
check "bad server network" "bad sessions server 203.0.113.0/33 \"bad address or network '203.0.113.0/33' for server\""
check "bad alias address" "bad sessions alias 203.0.113 \"bad address '203.0.113' for alias\""
check "bad SPI" "bad sessions spi 12g4 \"bad SPI '12g4' for spi (hex, 0x optional, at most 16 digits, not 0)\""
check "SPI 0 refused" "bad sessions spi 0x0 \"bad SPI '0x0' for spi (hex, 0x optional, at most 16 digits, not 0)\""
check "unknown filter" "bad sessions port 500 \"unknown filter 'port' (client, server, alias or spi)\""
check "filter given twice" "bad sessions client 192.0.2.11 client 192.0.2.12 'client given twice'"
check "filter without a value" "bad sessions server 'server needs an address or network'"
check "too many words" "bad sessions $(printf 'spi 1 %.0s' $(seq 9)) 'too many words (at most 16 after the command)'"
check "daemon still running after bad requests" 'ctl stats >/dev/null'

# the table's memory: what it reserved (max-sessions 65536, the default:
# about 400 bytes a session), and of that, with five sessions, only the
# hash buckets and the pools' first pages in memory
tb=$(ctl_stat table_bytes) tr_=$(ctl_stat table_resident_bytes)
echo "table: $tb bytes reserved, $tr_ in memory"
check "stats: the table reserved about 400 bytes a session of max-sessions" \
	'[ "${tb:-0}" -ge $((65536 * 300)) ] && [ "$tb" -le $((65536 * 500)) ]'
check "stats: little of it in memory with five sessions" \
	'[ "${tr_:-0}" -gt 0 ] && [ "$tr_" -lt $((tb / 2)) ]'

echo "--- espmasqctl aliases:"
ctl aliases | tee "$tmp/aliases.txt"
ctl -j aliases >"$tmp/aliases.json"
check "aliases JSON matches the table" 'h aliases "$tmp/all.json" "$tmp/aliases.json" >"$tmp/aliases.sum"'
cat "$tmp/aliases.sum"
check "aliases JSON: the four aliases" \
	'[ "$(cut -d" " -f1 "$tmp/aliases.sum" | tr "\n" " ")" = "203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.14 " ]'
check "aliases JSON: .13 pinned to client 3" \
	'grep -qx "203.0.113.13 pinned=1 to=192.0.2.13 drained=0 sessions=1" "$tmp/aliases.sum"'
check "aliases JSON: client 1's alias, 2 sessions" \
	'grep -qx "$alias1 pinned=0 to=- drained=0 sessions=2" "$tmp/aliases.sum"'
check "aliases JSON: the unused alias has none" \
	'grep -qx "$unused pinned=0 to=- drained=0 sessions=0" "$tmp/aliases.sum"'
check "aliases text: one line per alias and a header" '[ "$(grep -c . "$tmp/aliases.txt")" = 5 ]'
check "aliases text: the pin shown" \
	'grep -Eq "^203\.0\.113\.13 +in use +192\.0\.2\.13 +1 +192\.0\.2\.13 +203\.0\.113\.100$" "$tmp/aliases.txt"'
check "aliases text: client 1's alias with both servers" \
	'grep -Eq "^$alias1 +in use +- +2 +192\.0\.2\.11 +203\.0\.113\.100, 203\.0\.113\.101$" "$tmp/aliases.txt"'
check "aliases text: the unused alias is free" \
	'grep -Eq "^$unused +free +- +0 +- +-$" "$tmp/aliases.txt"'
check "aliases text: columns aligned" 'h aligned "$tmp/aliases.txt" >/dev/null'

# a reload that no longer lists client 1's alias leaves it drained
other=$(printf '%s\n' 203.0.113.11 203.0.113.12 203.0.113.14 | grep -vx "$alias1" | tr '\n' ' ')
{ conf "${other%% *}"; echo "alias ${other#* }"; } >"$tmp/espmasq.conf"
check "reload without client 1's alias" 'ctl reload >/dev/null'
ctl -j aliases >"$tmp/aliases2.json"
check "aliases after the reload match the table" 'h aliases "$tmp/all.json" "$tmp/aliases2.json" >"$tmp/aliases2.sum"'
check "client 1's alias listed drained, with its sessions" \
	'grep -qx "$alias1 pinned=0 to=- drained=1 sessions=2" "$tmp/aliases2.sum"'
check "aliases text says drained" 'ctl aliases | grep -Eq "^$alias1 +in use, drained "'

echo "--- flush"
check "bare flush refused (status 2), table intact" \
	'ctl flush >"$tmp/out" 2>"$tmp/err"; [ $? = 2 ] && [ ! -s "$tmp/out" ] &&
	 grep -q "espmasqctl flush all" "$tmp/err" && grep -q "negotiate again" "$tmp/err" &&
	 [ "$(ctl -j sessions | grep -c "\"type\":\"session\"")" = 5 ]'
cat "$tmp/err"
# the daemon refuses it too, for requests that do not come from espmasqctl
raw() {
	"$PYTHON" - "$tmp/espmasq.sock" "$1" <<'PYRAW'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode().splitlines()[0])
PYRAW
}
check "daemon refuses a bare flush" '[ "$(raw flush)" = "error flush needs '"'"'all'"'"' or '"'"'client ADDR'"'"'" ]'
check "flush with another word refused" "bad flush everything \"flush needs 'all' or 'client ADDR'\""
check "flush all with more words refused" "bad flush all now \"flush needs 'all' or 'client ADDR'\""
check "flush of a bad client refused" "bad flush client 192.0.2.x \"bad address '192.0.2.x' for client\""
check "table intact after refused flushes" '[ "$(ctl -j sessions | grep -c "\"type\":\"session\"")" = 5 ]'
check "flush client 2 removes its 2 sessions" \
	'[ "$(ctl flush client 192.0.2.12)" = "removed 2 session(s); their clients get an alias again with their next packet" ]'
check "only client 2's sessions went" \
	'[ "$(ctl sessions | awk "/^192\\.0\\.2\\./ {print \$1}" | sort | tr "\n" " ")" = "192.0.2.11 192.0.2.11 192.0.2.13 " ]'
check "flush client of nobody removes nothing" '[ "$(ctl -j flush client 192.0.2.99)" = "{\"type\":\"flush\",\"sessions\":0}" ]'
check "flush all (JSON) removes the other 3" '[ "$(ctl -j flush all)" = "{\"type\":\"flush\",\"sessions\":3}" ]'
check "sessions: no sessions" '[ "$(ctl sessions)" = "no sessions" ]'
check "stats count 5 flushed, 0 active" \
	'ctl -j stats | grep "\"scope\":\"sessions\"" | grep -q "\"active\":0,.*\"flushed\":5[,}]"'
ctl -j aliases >"$tmp/aliases3.json"
check "aliases: every alias without sessions" \
	'! grep -v "\"sessions\":0" "$tmp/aliases3.json" | grep -q .'

run_clients 203.0.113.100 "" 1 2 3
for i in 1 2 3; do
	check "client $i through again after the flush" 'esp_ok $i'
done
echo "--- espmasqctl sessions after the flush and new traffic:"
ctl sessions | tee "$tmp/after.txt"
check "three sessions again" '[ "$(grep -c "^192\.0\.2\." "$tmp/after.txt")" = 3 ]'
check "client 1 no longer on its drained alias" \
	'! grep -Eq "^192\.0\.2\.11 +$alias1 " "$tmp/after.txt"'

# one unpinned alias left: clients 1 and 2 share it toward .100 (whether
# their traffic gets through is test_shared_scapy.sh's business)
ctl flush all >/dev/null
conf 203.0.113.11 >"$tmp/espmasq.conf"
check "reload with one unpinned alias" 'ctl reload >/dev/null'
run_clients 203.0.113.100 "" 1 2
echo "--- espmasqctl aliases with one alias shared:"
ctl aliases | tee "$tmp/aliases4.txt"
ctl -j sessions >"$tmp/all4.json"
ctl -j aliases >"$tmp/aliases4.json"
check "shared: aliases JSON matches the table" \
	'h aliases "$tmp/all4.json" "$tmp/aliases4.json" >"$tmp/aliases4.sum"'
check "shared: the pool is the new configuration's, nothing drained" \
	'[ "$(cut -d" " -f1,4 "$tmp/aliases4.sum" | tr "\n" " ")" = "203.0.113.11 drained=0 203.0.113.13 drained=0 " ]'
check "shared: both clients on .11, shared=1" \
	'grep -q "\"addr\":\"203.0.113.11\",\"pinned\":0,\"drained\":0,\"shared\":1,\"sessions\":2,\"clients\":\"192.0.2.11,192.0.2.12\",\"servers\":\"203.0.113.100\"" "$tmp/aliases4.json"'
check "shared: text says shared" \
	'grep -Eq "^203\.0\.113\.11 +shared +- +2 +192\.0\.2\.11, 192\.0\.2\.12 +203\.0\.113\.100$" "$tmp/aliases4.txt"'
check "shared: the pinned alias is free" \
	'grep -Eq "^203\.0\.113\.13 +free +192\.0\.2\.13 +0 +- +-$" "$tmp/aliases4.txt"'
check "shared: filter by alias shows both" \
	'[ "$(ctl sessions alias 203.0.113.11 | grep -c "^192\.0\.2\.1[12] ")" = 2 ]'
# watch: sessions created, their SAs, and their expiry, live, in text and
# JSON, by two watchers at once; one more that never reads holds up
# nothing
ctl flush all >/dev/null
{ conf 203.0.113.11-203.0.113.12; printf 'timeout pending 2s\ntimeout esp 3s\ntimeout ike 3s\ntimeout nat-t 3s\n'; } >"$tmp/espmasq.conf"
check "reload with short timeouts" 'ctl reload >/dev/null'
ctl watch >"$tmp/watch.txt" 2>&1 &
w1=$!
ctl -j watch >"$tmp/watch.json" 2>&1 &
w2=$!
"$PYTHON" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"watch\n")
time.sleep(30)' "$tmp/espmasq.sock" &
w3=$!
sleep 0.5
run_clients 203.0.113.100 --natt 1 3
check "watched: client 1 through" 'esp_ok 1'
check "watched: client 3 through" 'esp_ok 3'
for _ in $(seq 100); do
	grep -q "expired .*192.0.2.11" "$tmp/watch.txt" &&
		grep -q "expired .*192.0.2.13" "$tmp/watch.txt" && break
	sleep 0.1
done
sleep 0.3
kill $w1 $w2 $w3 2>/dev/null
wait $w1 $w2 $w3 2>/dev/null
echo "--- espmasqctl watch:"
cat "$tmp/watch.txt"
for c in 11 13; do
	check "watch: 192.0.2.$c created, on its alias" \
		'grep -Eq "^[0-9:]{8}  created +192\.0\.2\.$c +-> 203\.0\.113\.100 +on 203\.0\.113\.1[123]$" "$tmp/watch.txt"'
	check "watch: 192.0.2.$c's ESP SAs, both ways" \
		'grep -q "new-sa .*192.0.2.$c .*esp-out spi 0000100" "$tmp/watch.txt" && grep -q "new-sa .*192.0.2.$c .*esp-in spi 0000200" "$tmp/watch.txt"'
	check "watch: 192.0.2.$c expired after the created line" \
		'awk -v c="192.0.2.$c" "\$2 == \"created\" && \$3 == c {s = 1} s && \$2 == \"expired\" && \$3 == c {e = 1} END {exit !e}" "$tmp/watch.txt"'
done
check "watch -j: one JSON object a line, sequence numbers rising, the same events" \
	'"$PYTHON" -c "
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
seq = [e[\"seq\"] for e in ev]
assert ev and all(e[\"type\"] == \"event\" for e in ev), ev
assert seq == sorted(seq) and len(set(seq)) == len(seq), seq
kinds = [e[\"kind\"] for e in ev]
assert kinds.count(\"created\") == 2 and kinds.count(\"expired\") == 2, kinds
assert isinstance(ev[0][\"time\"], int) and isinstance(ev[0][\"client\"], str)
n = sum(1 for l in open(sys.argv[2]) if l[:2].strip())
assert n == len(ev), (n, len(ev))
" "$tmp/watch.json" "$tmp/watch.txt"'
check "a watcher that never reads did not hold up the others" 'esp_ok 1 && esp_ok 3'
# control clients that ask all the time, one that never reads its watch
# stream and one that never finishes its request do not slow packets:
# the same traffic, as fast as the clients send, alone and with them
RATE_K=1500
rate_run() {
	local i start
	start=$("$PYTHON" -c 'import time; print(time.time() + 1)')
	for i in 1 2; do
		rm -f "$tmp/rate-$1-$i.json"
		ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
			--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --natt \
			--count $RATE_K --interval 0.002 --start-at "$start" \
			--timeout 40 --result "$tmp/rate-$1-$i.json"
	done
	for i in 1 2; do
		for _ in $(seq 450); do
			[ -s "$tmp/rate-$1-$i.json" ] && break; sleep 0.1
		done
	done
}
# rate NAME: packets answered per second, both clients, both kinds
rate() {
	"$PYTHON" -c 'import json, sys
t = 0
for p in sys.argv[1:]:
    d = json.load(open(p))
    t += (d["esp_ok"] + d["esp_udp_ok"]) / d["esp_secs"]
print(int(t))' "$tmp/rate-$1-1.json" "$tmp/rate-$1-2.json"
}
rate_run alone
# a watcher that never reads, a request never finished, a reader of
# sessions taking a byte every 50 ms, and sessions and stats asked ten
# times a second: slow clients, not a CPU hog (on two cores a busy
# loop would slow the test's own clients instead)
"$PYTHON" -c 'import socket, sys, time
def conn(req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(req)
    return s
w = conn(b"watch\n")
h = conn(b"sess")
slow = conn(b"sessions\n")
end = time.time() + 60
while time.time() < end:
    slow.recv(1)
    for req in (b"sessions\n", b"stats\n"):
        q = conn(req)
        while q.recv(65536):
            pass
        q.close()
    time.sleep(0.05)' "$tmp/espmasq.sock" &
stuck=$!
sleep 0.5
rate_run busy
kill "$stuck" 2>/dev/null
wait "$stuck" 2>/dev/null
r_alone=$(rate alone)
r_busy=$(rate busy)
echo "packets answered per second: ${r_alone:-?} alone, ${r_busy:-?} with slow, stuck and polling control clients"
for i in 1 2; do
	check "rate runs: client $i got every reply, alone and with control clients" \
		'[ "$(jq_ "$tmp/rate-alone-$i.json" "d[\"esp_ok\"] + d[\"esp_udp_ok\"]")" = $((2 * RATE_K)) ] && [ "$(jq_ "$tmp/rate-busy-$i.json" "d[\"esp_ok\"] + d[\"esp_udp_ok\"]")" = $((2 * RATE_K)) ]'
done
check "control clients did not slow packets (at least 0.7 of the rate alone)" \
	'[ -n "$r_alone" ] && [ -n "$r_busy" ] && [ $((10 * r_busy)) -ge $((7 * r_alone)) ]'
check "daemon still running" 'ctl stats >/dev/null'
if [ $fail != 0 ]; then
	echo "--- daemon log:"; cat "$tmp/daemon.log"
fi
echo "ctl: $pass passed, $fail failed"
[ $fail = 0 ]
