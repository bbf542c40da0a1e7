#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Stalls and crashes under traffic: SIGSTOP the daemon until its kernel
# queue (queue-maxlen 64) overflows, then SIGCONT: it recovers by itself,
# the loss shows in its stats and in two log lines (begun, over), and
# traffic flows again.  Then kill -9 with packets waiting in the queue:
# the kernel stays untainted and a new daemon serves again.  Last, a long
# queue (16384) stopped with big packets: the socket buffer holds it all
# with rcvbuf auto, and not with 8m.  Needs root.
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

need_root
topo_up 1
topo_add_aliases 203.0.113.11
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11
server 203.0.113.100
queue-maxlen 64
control $tmp/espmasq.sock
CONF
rules_load
# client N COUNT INTERVAL: one client run, results in res-N.json
client() {
	ns c1 "$PYTHON" "$here/peer.py" client --index 1 --addr 192.0.2.11 \
		--server 203.0.113.100 --natt --count "$2" --interval "$3" \
		--timeout 4 --result "$tmp/res-$1.json" >/dev/null 2>&1
}
answered() { jq_ "$tmp/res-$1.json" '(d["esp_ok"], d["esp_udp_ok"])'; }

daemon_start daemon-1.log
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 1 \
	--log "$tmp/server.log" --duration 90
sleep 1
client before 20 0.02
check "before the stall: all answered" '[ "$(answered before)" = "(20, 20)" ]'

# 400 ESP and 400 ESP-in-UDP in 4 s; the daemon stops for 2 s of them
client stall 400 0.01 &
cpid=$!
sleep 1
kill -STOP "$pid"
sleep 2
ns r cat /proc/net/netfilter/nfnetlink_queue >"$tmp/nfq.txt"
kill -CONT "$pid"
wait "$cpid"
sleep 2.5
echo "stall: answered $(answered stall) of (400, 400); the kernel queue: $(cat "$tmp/nfq.txt")"
check "the daemon lives on after SIGSTOP and SIGCONT" 'kill -0 "$pid"'
lost=$(ctl_stat kernel_queue_dropped)
echo "kernel_queue_dropped=$lost"
check "the loss is counted in stats (kernel_queue_dropped)" '[ "$lost" -gt 0 ]'
check "and logged twice, once as it begins and once when it is over" \
	'[ "$(grep -c "the kernel is dropping packets" "$tmp/daemon-1.log")" = 1 ] && [ "$(grep -c "the kernel dropped [0-9]* packets in" "$tmp/daemon-1.log")" = 1 ]'
grep "queue 0:" "$tmp/daemon-1.log"
check "the stall cost packets but not all of them" \
	'a=$(answered stall); [ "$a" != "(400, 400)" ] && [ "$a" != "(0, 0)" ]'
client after 20 0.02
check "after SIGCONT: all answered again" '[ "$(answered after)" = "(20, 20)" ]'

# kill -9 with packets waiting in the kernel queue
taint=$(cat /proc/sys/kernel/tainted)
kill -STOP "$pid"
client killed 30 0.01 &
cpid=$!
sleep 0.5
waiting=$(ns r awk '$1 == 0 { print $3 }' /proc/net/netfilter/nfnetlink_queue)
echo "packets waiting in queue 0 at kill -9: $waiting"
kill -KILL "$pid"
wait "$cpid"
check "kill -9 with packets in the queue ($waiting waiting)" '[ "${waiting:-0}" -gt 0 ]'
check "the kernel is not tainted by it" '[ "$(cat /proc/sys/kernel/tainted)" = "$taint" ]'
check "the queue went away with the daemon" \
	'! ns r awk "\$1 == 0" /proc/net/netfilter/nfnetlink_queue | grep -q .'
daemon_start daemon-2.log
client restarted 20 0.02
check "a new daemon serves again: all answered" '[ "$(answered restarted)" = "(20, 20)" ]'
# the daemon is not this shell's child: wait until it has let the queue go
daemon_gone() {
	kill "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
}
daemon_gone

# A long queue needs a socket buffer to match: each packet waits in it as a
# message until its verdict (2304 bytes for a 1400-byte packet).  With
# rcvbuf auto (not written), queue-maxlen 16384 holds 16384 such packets
# while the daemon is stopped, the rest counted as queue_dropped; with
# rcvbuf 8m (what the default was before auto) the buffer is full first,
# the kernel drops the rest as user_dropped, and the daemon said so when
# it started.
# burst NAME: stop the daemon, send 20000 ESP packets of 1400 bytes, read
# the queue's line (queue_total, queue_dropped, user_dropped), go on.
rmac=$(ip -n "${EMP}r" -br link show br0 | awk '{print $3}')
burst() {
	kill -STOP "$pid"
	ns c1 "$GEN" -i c-e -M "$rmac" -c 1 -a 192.0.2.11 -d 203.0.113.100 \
		-k 4 -m 1,0,0 -s 1400 -r 50000 -n 20000 >/dev/null
	sleep 0.5
	ns r awk '$1 == 0 { print $3, $6, $7 }' \
		/proc/net/netfilter/nfnetlink_queue >"$tmp/burst-$1"
	kill -CONT "$pid"
	echo "$1: queue_total queue_dropped user_dropped: $(cat "$tmp/burst-$1")"
}
if [ -x "$GEN" ]; then
	sed -i 's/^queue-maxlen 64$/queue-maxlen 16384/' "$tmp/espmasq.conf"
	daemon_start daemon-3.log
	burst auto
	read -r total qdrop udrop <"$tmp/burst-auto"
	check "rcvbuf auto: the queue held all 16384, the rest queue_dropped, none user_dropped" \
		'[ "$total" = 16384 ] && [ "$qdrop" -gt 0 ] && [ "$udrop" = 0 ]'
	check "rcvbuf auto: no warning about the socket buffer" \
		'! grep -q "socket buffer holds" "$tmp/daemon-3.log"'
	daemon_gone
	echo "rcvbuf 8m" >>"$tmp/espmasq.conf"
	daemon_start daemon-4.log
	grep "socket buffer holds" "$tmp/daemon-4.log"
	check "rcvbuf 8m: a warning that it holds fewer than queue-maxlen" \
		'grep -q "queue 0: its socket buffer holds about 7281 packets.*rcvbuf 18m or more" "$tmp/daemon-4.log"'
	burst 8m
	read -r total qdrop udrop <"$tmp/burst-8m"
	check "rcvbuf 8m: the buffer filled first, the rest user_dropped" \
		'[ "$total" -lt 16384 ] && [ "$udrop" -gt 0 ]'
	daemon_gone
else
	check "$GEN built (make bench-tools)" false
fi
echo "overload: $pass passed, $fail failed"
[ $fail = 0 ]
