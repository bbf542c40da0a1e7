#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The control experiment: the seed's problem, reproduced.  The same three
# clients (raw ESP, no NAT-T) through plain kernel MASQUERADE on one public
# address, no espmasqd.  Conntrack has no ESP tracker, so not every client
# gets its replies.  Passes when that failure is seen: it shows the
# masquerade test's assertions can tell a working NAT from a broken one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
EMP=emk$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
K=5

need_root
topo_up 3
ns r iptables -t nat -A POSTROUTING -s 192.0.2.0/24 -o r-out -j MASQUERADE
ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 3 \
	--log "$tmp/server.log" --duration 16
start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
for i in 1 2 3; do
	ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
		--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --count $K \
		--start-at "$start" --timeout 8 --result "$tmp/res-$i.json"
done
for i in 1 2 3; do
	for _ in $(seq 150); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
done
complete=0
for i in 1 2 3; do
	r=$("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["esp_ok"], d["foreign"])' "$tmp/res-$i.json" 2>/dev/null || echo "0 0")
	set -- $r
	echo "client $i: $1/$K ESP replies, $2 foreign packets"
	[ "$1" = $K ] && [ "$2" = 0 ] && complete=$((complete + 1))
done
echo "kernel conntrack ESP entries:"
ns r conntrack -L -p esp 2>/dev/null || ns r conntrack -L 2>/dev/null | grep -i "proto=50\|esp\|unknown" || true
if [ $complete -lt 3 ]; then
	echo "kernel control: 1 passed, 0 failed (only $complete of 3 clients work through MASQUERADE, as the seed says)"
	exit 0
fi
echo "kernel control: 0 passed, 1 failed (every client worked through plain MASQUERADE: the test cannot tell)"
exit 1
