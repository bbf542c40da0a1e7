#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# espmasqd under valgrind's memcheck through a short life: two queues,
# two clients' IKE, NAT-T and ESP both ways, every espmasqctl command
# (watch included), a reload, a flush, a state file, SIGTERM.  No invalid
# access, no uninitialised value used, nothing leaked.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emk$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; [ -n "${KEEP:-}" ] && cp "$tmp/vg.log" /tmp/vg-keep.log; rm -rf "$tmp"; }
trap cleanup EXIT

need_root
# valgrind cannot run a binary built with AddressSanitizer; in such a run
# (make check SANITIZE=address,...) ASan checks the daemon in every test
if readelf --dyn-syms -W "$ESPMASQD" 2>/dev/null | grep -q __asan_init; then
	echo "memcheck: not run: $ESPMASQD is built with AddressSanitizer, which valgrind cannot run"
	exit 0
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed (make deps)"; exit 1; }
topo_up 2
topo_add_aliases 203.0.113.11 203.0.113.12
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.12
server 203.0.113.100
queues 0-1
control $tmp/espmasq.sock
state $tmp/sessions
metrics-file $tmp/espmasq.prom
CONF
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
ns_bg r valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --track-origins=yes \
	--error-exitcode=99 --log-file="$tmp/vg.log" \
	"$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 300); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
check "the daemon starts under valgrind" '[ -S "$tmp/espmasq.sock" ]'
vpid=$(pgrep -f "valgrind.*espmasqd -f $tmp/espmasq.conf" | head -1)
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 2 \
	--log "$tmp/server.log" --duration 120
sleep 1
ctl watch >"$tmp/watch.txt" 2>&1 &
wpid=$!
for i in 1 2; do
	ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
		--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --natt \
		--count 30 --interval 0.05 --timeout 20 --result "$tmp/res-$i.json"
done
for i in 1 2; do
	for _ in $(seq 600); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
done
for i in 1 2; do
	check "client $i: ESP and ESP-in-UDP answered through the daemon under valgrind" \
		'[ "$(jq_ "$tmp/res-$i.json" "d[\"esp_ok\"] > 0 and d[\"esp_udp_ok\"] > 0")" = True ]'
done
for c in "sessions" "sessions client 192.0.2.11" "aliases" "stats" \
	"stats --prometheus" "-j sessions" "-j stats" "-j aliases"; do
	# shellcheck disable=SC2086
	ctl $c >/dev/null 2>&1 || echo "espmasqctl $c failed"
done
echo "timeout esp 20m" >>"$tmp/espmasq.conf"
ctl reload >/dev/null
ctl flush client 192.0.2.12 >/dev/null
printf 'garbage\n' | timeout 5 "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"x" * 70000 + b"\n"); s.close()' "$tmp/espmasq.sock" 2>/dev/null
kill "$wpid" 2>/dev/null
sleep 1
kill -TERM "$vpid"
for _ in $(seq 600); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
check "valgrind has finished" '! kill -0 "$vpid" 2>/dev/null'
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|Invalid|uninitialised" "$tmp/vg.log" | sed 's/^==[0-9]*== //' | sort | uniq -c
check "memcheck: no errors (invalid accesses, uninitialised values, leaks)" \
	'grep -q "ERROR SUMMARY: 0 errors" "$tmp/vg.log"' || cat "$tmp/vg.log"
check "memcheck: nothing definitely or indirectly lost" \
	'! grep -qE "(definitely|indirectly) lost: [1-9]" "$tmp/vg.log"'
check "watch saw the sessions being created" 'grep -q "created" "$tmp/watch.txt"'
echo "memcheck: $pass passed, $fail failed"
[ $fail = 0 ]
