#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: three IPsec clients behind one Linux router running espmasqd
# use one VPN server that has no NAT Traversal, all at the same time.
# Everything happens in network namespaces this script creates and removes;
# only documentation addresses are used.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
here=$top/tests/integration
ESPMASQD=${ESPMASQD:-$top/build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$top/build/espmasqctl}
EMP=emd$$
. "$here/topo.sh"
tmp=$(mktemp -d)
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
need_root

cat <<TXT
espmasq demo
  clients  192.0.2.11 .12 .13   (each runs IKE on udp/500 and raw ESP, like
                                 a client of a server without NAT-T)
  router   192.0.2.1 | 203.0.113.1, aliases 203.0.113.11-13, runs espmasqd
  server   203.0.113.100        (answers ESP pings through each client's SA)

TXT
topo_up 3
topo_add_aliases 203.0.113.11 203.0.113.12 203.0.113.13
cat > "$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.13
queues 0-1
control $tmp/espmasq.sock
CONF
echo "--- configuration:"; grep -v control "$tmp/espmasq.conf"
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules | ns r iptables-restore --noflush
# offload auto (the default): with its nft table, the kernel rewrites
# established ESP itself; without it, espmasqd translates every packet
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules=offload |
	ns r nft -f - 2>/dev/null ||
	echo "(the offload table did not load: espmasqd translates every packet)"
ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done

ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 3 \
	--log "$tmp/server.log" --duration 20
start=$("$PYTHON" -c 'import time; print(time.time() + 2.5)')
for i in 1 2 3; do
	ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
		--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --count 40 \
		--interval 0.1 --start-at "$start" --timeout 15 \
		--result "$tmp/res-$i.json"
done
echo; echo "--- three clients start at the same instant; live session table:"
sleep 5
"$ESPMASQCTL" -s "$tmp/espmasq.sock" sessions
for i in 1 2 3; do
	for _ in $(seq 200); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
done
echo; echo "--- who translated what (espmasqctl stats):"
"$ESPMASQCTL" -s "$tmp/espmasq.sock" -j stats | "$PYTHON" -c '
import json, sys
queued = kernel = 0
state = "off"
for line in sys.stdin:
    r = json.loads(line)
    if r.get("scope") == "queue":
        queued += int(r["packets"])
    elif r.get("scope") == "offload":
        state = r["state"]
        kernel = int(r["packets"])
print("espmasqd decided %d packets (IKE, and the first of each ESP SA); "
      "offload %s: the kernel rewrote %d established ESP packets itself"
      % (queued, state, kernel))'
echo; echo "--- results:"
ok=0
for i in 1 2 3; do
	"$PYTHON" - "$tmp/res-$i.json" "$tmp/server.log" "$i" <<'PY' && ok=$((ok + 1))
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("client %s: no result" % sys.argv[3]); sys.exit(1)
i = int(sys.argv[3])
seen = sorted({json.loads(l)["src"] for l in open(sys.argv[2])
               if json.loads(l).get("client") == i})
good = r["esp_ok"] == r["esp_sent"] and r["foreign"] == 0 and r["ike_v2_ok"]
print("client %s: IKE %s, ESP echo %d/%d replies came back, %d foreign; "
      "server saw it as %s -> %s" % (r["addr"], "ok" if r["ike_v2_ok"] else
      "FAILED", r["esp_ok"], r["esp_sent"], r["foreign"], ", ".join(seen),
      "tunnel traffic came back to it" if good else "FAILED"))
sys.exit(0 if good else 1)
PY
done
echo
echo "$ok of 3 clients worked at the same time through one router."
echo "(Without espmasq, plain MASQUERADE lets only one of them work:"
echo " tests/integration/test_kernel_control.sh shows it.)"
[ $ok = 3 ]
