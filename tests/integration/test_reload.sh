#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configuration reload under traffic: three scapy clients send ESP and
# ESP-in-UDP through espmasqd (real encryption, every packet answered)
# while the configuration is reloaded 50 times (espmasqctl reload and
# SIGHUP, alternating two valid files); a broken file and a change that
# takes a restart are refused and traffic goes on; an alias dropped from
# the file is drained: its session keeps it, a new client does not get it.
# Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emo$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
K=${K:-600}
RELOADS=50

need_root
topo_up 4
topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.14
# conf NAME TIMEOUT ALIASES: a valid configuration
conf() {
	local a
	{
		for a in $3; do echo "alias $a"; done
		cat <<CONF
inside 192.0.2.0/24
outside r-out
pin 192.0.2.13 203.0.113.13
server 203.0.113.100/31
queues 0-1
timeout esp $2
control $tmp/espmasq.sock
CONF
	} >"$tmp/$1.conf"
}
conf a 5m 203.0.113.11-203.0.113.12
conf b 7m "203.0.113.11-203.0.113.12 203.0.113.14"
cp "$tmp/a.conf" "$tmp/espmasq.conf"
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
check "daemon is up" '[ -S "$tmp/espmasq.sock" ]'
dpid=$(pgrep -f "espmasqd -f $tmp/espmasq.conf" | head -1)

ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 4 \
	--log "$tmp/server.log" --duration 60
start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
for i in 1 2 3; do
	ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
		--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --natt \
		--count "$K" --interval 0.02 --start-at "$start" --timeout 40 \
		--result "$tmp/res-$i.json"
done
sleep 4
ctl sessions >"$tmp/before.txt"

# 50 reloads while the packets flow: espmasqctl and SIGHUP in turn
ok=0 sighup=0
t0=$(date +%s.%N)
for r in $(seq $RELOADS); do
	if [ $((r % 2)) = 1 ]; then
		cp "$tmp/b.conf" "$tmp/espmasq.conf"
	else
		cp "$tmp/a.conf" "$tmp/espmasq.conf"
	fi
	if [ $((r % 5)) = 0 ]; then
		kill -HUP "$dpid" && sighup=$((sighup + 1))
	elif ctl reload >"$tmp/reload-$r.txt" 2>&1; then
		ok=$((ok + 1))
	fi
	sleep 0.1
done
t1=$(date +%s.%N)
echo "$RELOADS reloads in $(awk -v a="$t0" -v b="$t1" "BEGIN {printf \"%.1f\", b - a}") s ($ok by espmasqctl, $sighup by SIGHUP)"
check "every espmasqctl reload succeeded" '[ $ok = $((RELOADS - RELOADS / 5)) ]'
sleep 0.5
n=$(grep -c "SIGHUP: configuration reloaded" "$tmp/daemon.log")
check "every SIGHUP reloaded ($n of $sighup)" '[ "$n" = "$sighup" ]'
echo "--- espmasqctl reload, the file with an alias more:"
cat "$tmp/reload-1.txt"
check "espmasqctl reload reports the aliases and the rules to apply" \
	'grep -q "configuration reloaded: 3 alias" "$tmp/reload-1.txt" && grep -q "netfilter rules differ" "$tmp/reload-1.txt"'

# a broken file: refused with file:line, nothing changes
printf 'alias 203.0.113.11-203.0.113.12\nbogus directive\ntimeout esp forever\n' >"$tmp/espmasq.conf"
ctl reload >"$tmp/bad.txt" 2>&1
rc=$?
echo "--- espmasqctl reload, a broken file (exit $rc):"
cat "$tmp/bad.txt"
check "a broken file is refused (exit 1)" '[ $rc = 1 ]'
check "the refusal names file and line of each problem" \
	'grep -q "espmasq.conf:2" "$tmp/bad.txt" && grep -q "espmasq.conf:3" "$tmp/bad.txt"'
# a setting that takes a restart
sed 's/^queues 0-1/queues 0-2/' "$tmp/a.conf" >"$tmp/espmasq.conf"
ctl reload >"$tmp/restart.txt" 2>&1
rc=$?
cat "$tmp/restart.txt"
check "a change of queues is refused: it takes a restart" \
	'[ $rc = 1 ] && grep -q "queues.*restart" "$tmp/restart.txt"'
kill -HUP "$dpid"
sleep 0.3
check "SIGHUP with a refused file logs why" \
	'grep -q "SIGHUP: configuration refused" "$tmp/daemon.log"'

# drain: drop the alias client 2 uses; client 4 comes and does not get it
a2=$(awk '$1 == "192.0.2.12" {print $2}' "$tmp/before.txt")
other=203.0.113.11
[ "$a2" = 203.0.113.11 ] && other=203.0.113.12
conf c 5m "$other"
cp "$tmp/c.conf" "$tmp/espmasq.conf"
ctl reload >"$tmp/drain.txt" 2>&1
cat "$tmp/drain.txt"
check "dropping a used alias drains it" 'grep -q "1 alias(es) no longer listed stay" "$tmp/drain.txt"'
ns_bg c4 "$PYTHON" "$here/peer.py" client --index 4 --addr 192.0.2.14 \
	--server 203.0.113.100 --count 20 --timeout 10 --result "$tmp/res-4.json"

for i in 1 2 3 4; do
	for _ in $(seq 400); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
done
ctl sessions >"$tmp/after.txt"
echo "--- espmasqctl sessions after the reloads:"
grep -E '^(CLIENT|192)' "$tmp/after.txt"
for i in 1 2 3; do
	r=$tmp/res-$i.json
	echo "client $i: $(jq_ "$r" 'dict((k, d[k]) for k in ("esp_sent", "esp_ok", "esp_udp_sent", "esp_udp_ok", "foreign"))' 2>/dev/null)"
	check "client $i: every ESP packet answered across the reloads" \
		'[ "$(jq_ "$r" "d[\"esp_ok\"]")" = "$K" ]'
	check "client $i: every ESP-in-UDP packet answered across the reloads" \
		'[ "$(jq_ "$r" "d[\"esp_udp_ok\"]")" = "$K" ]'
	check "client $i: nothing foreign" '[ "$(jq_ "$r" "d[\"foreign\"]")" = 0 ]'
	check "client $i: kept its alias" \
		'[ "$(awk -v c=192.0.2.$((10 + i)) "\$1 == c {print \$2}" "$tmp/before.txt")" = "$(awk -v c=192.0.2.$((10 + i)) "\$1 == c {print \$2}" "$tmp/after.txt")" ]'
done
a4=$(awk '$1 == "192.0.2.14" {print $2}' "$tmp/after.txt")
echo "client 2 on the drained alias $a2; client 4 came after and got $a4"
check "client 4 went through" '[ "$(jq_ "$tmp/res-4.json" "d[\"esp_ok\"]")" = 20 ]'
check "client 4 did not get the drained alias" '[ -n "$a4" ] && [ "$a4" != "$a2" ]'
check "daemon still running" 'kill -0 "$dpid"'
check "no packet lost in the kernel queue" \
	'! ctl stats | grep -Eq "kernel_(queue|user)_dropped=[1-9]"'
check "nothing dropped by the daemon" '[ "$(ctl_stat dropped)" = 0 ]'
[ $fail = 0 ] || tail -20 "$tmp/daemon.log"
echo "reload: $pass passed, $fail failed"
[ $fail = 0 ]
