#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Stalls and crashes under traffic: SIGSTOP the daemon until its kernel
# queue (queue-maxlen 64) overflows, then SIGCONT: it recovers by itself,
# the loss shows in its stats and in two log lines (begun, over), and
# traffic flows again.  Then kill -9 with packets waiting in the queue:
# the kernel stays untainted and a new daemon serves again.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
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
echo "overload: $pass passed, $fail failed"
[ $fail = 0 ]
