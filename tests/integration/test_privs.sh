#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Least privilege: once started, espmasqd keeps CAP_NET_ADMIN and nothing
# else (effective, permitted, bounding; no ambient; no_new_privs), in every
# thread; with `user nobody` it runs as nobody and still translates,
# reloads, writes its state file (0600) and answers on its socket (0660).
# Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emv$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT

need_root
topo_up 1
topo_add_aliases 203.0.113.11
# nobody must reach the config (reload) and the state directory
chmod 0755 "$tmp"
mkdir -m 0700 "$tmp/lib" && chown nobody: "$tmp/lib"
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11
server 203.0.113.100
control $tmp/espmasq.sock
state $tmp/lib/sessions
user nobody
CONF
rules_load
daemon_start daemon.log
check "the daemon runs" '[ -n "$pid" ] && kill -0 "$pid"'
st() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/status"; }
echo "uid $(st Uid), CapEff $(st CapEff), CapPrm $(st CapPrm), CapBnd $(st CapBnd), CapAmb $(st CapAmb), CapInh $(st CapInh), NoNewPrivs $(st NoNewPrivs)"
check "it runs as nobody" '[ "$(st Uid)" = "$(id -u nobody)" ] && [ "$(st Gid)" = "$(id -g nobody)" ]'
check "CAP_NET_ADMIN only: effective, permitted and bounding" \
	'[ "$(st CapEff)" = 0000000000001000 ] && [ "$(st CapPrm)" = 0000000000001000 ] && [ "$(st CapBnd)" = 0000000000001000 ]'
check "no ambient or inheritable capabilities, no_new_privs" \
	'[ "$(st CapAmb)" = 0000000000000000 ] && [ "$(st CapInh)" = 0000000000000000 ] && [ "$(st NoNewPrivs)" = 1 ]'
check "every thread (the workers too) has CAP_NET_ADMIN alone" \
	'[ "$(grep -h "^CapEff" /proc/$pid/task/*/status | sort -u)" = "$(printf "CapEff:\t0000000000001000")" ] && [ "$(ls /proc/$pid/task | wc -l)" -ge 2 ]'
check "the control socket is 0660 and answers" \
	'[ "$(stat -c %a "$tmp/espmasq.sock")" = 660 ] && ctl stats >/dev/null'

ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 1 \
	--log "$tmp/server.log" --duration 30
sleep 1
ns c1 "$PYTHON" "$here/peer.py" client --index 1 --addr 192.0.2.11 \
	--server 203.0.113.100 --natt --count 20 --interval 0.05 --timeout 5 \
	--result "$tmp/res.json" >/dev/null 2>&1
check "as nobody it translates: ESP and ESP-in-UDP all answered" \
	'[ "$(jq_ "$tmp/res.json" "(d[\"esp_ok\"], d[\"esp_udp_ok\"])")" = "(20, 20)" ]'
echo "timeout esp 10m" >>"$tmp/espmasq.conf"
ctl reload >"$tmp/reload.txt" 2>&1
check "as nobody it reloads its configuration" 'grep -qi "reloaded" "$tmp/reload.txt"' ||
	cat "$tmp/reload.txt"
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "as nobody it wrote its state file at SIGTERM, mode 0600" \
	'[ "$(stat -c "%a %U" "$tmp/lib/sessions")" = "600 nobody" ] && grep -q "^session " "$tmp/lib/sessions"'

# without `user`: root, but still CAP_NET_ADMIN alone
sed -i '/^user /d' "$tmp/espmasq.conf"
daemon_start daemon2.log
echo "without user: uid $(st Uid), CapEff $(st CapEff), CapBnd $(st CapBnd)"
check "without user: root, CAP_NET_ADMIN alone" \
	'[ "$(st Uid)" = 0 ] && [ "$(st CapEff)" = 0000000000001000 ] && [ "$(st CapPrm)" = 0000000000001000 ]'
check "without user: the sessions of the nobody run came back" \
	'ctl sessions | grep -q "^192.0.2.11 "'
kill -TERM "$pid"
# a user that does not exist stops the start, with a reason
echo "user no-such-user-here" >>"$tmp/espmasq.conf"
rm -f "$tmp/espmasq.sock"
timeout 10 ip netns exec "${EMP}r" "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon3.log"
rc=$?
check "an unknown user: the daemon refuses to run, and says why" \
	'[ $rc != 0 ] && grep -q "no user .no-such-user-here." "$tmp/daemon3.log"'
echo "privs: $pass passed, $fail failed"
[ $fail = 0 ]
