#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Metrics and who may ask: espmasqctl stats --prometheus and the
# metrics-file, read with the Prometheus client library's own parser and
# checked against espmasqctl stats; the control socket answers root and
# its control-group (here: nogroup, the primary group of nobody), and
# refuses an unprivileged user outside it even when the socket's file
# permissions would let it in.  Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ESPMASQCTL=${ESPMASQCTL:-$here/../../build/espmasqctl}
EMP=emq$$
. "$here/topo.sh"
tmp=$(mktemp -d)
chmod 0755 "$tmp"
cleanup() { topo_down; rm -rf "$tmp"; }
trap cleanup EXIT
K=20
sock=$tmp/run/espmasq.sock
CTL_SOCK=$sock
# as UID GID: a command as that user and group, no other groups
as() { local u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups "$@"; }

need_root
topo_up 2
topo_add_aliases 203.0.113.11 203.0.113.12
cat >"$tmp/espmasq.conf" <<CONF
inside 192.0.2.0/24
outside r-out
alias 203.0.113.11-203.0.113.12
server 203.0.113.100
queues 0-1
control $sock
control-group nogroup
metrics-file $tmp/espmasq.prom
CONF
"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
	ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
ns_bg r "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/daemon.log"
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
check "daemon is up" '[ -S "$sock" ]'
check "the metrics file is there from the start" '[ -s "$tmp/espmasq.prom" ]'

ns_bg s "$PYTHON" "$here/peer.py" server --addr 203.0.113.100 --clients 2 \
	--log "$tmp/server.log" --duration 30
start=$("$PYTHON" -c 'import time; print(time.time() + 1.5)')
for i in 1 2; do
	ns_bg "c$i" "$PYTHON" "$here/peer.py" client --index "$i" \
		--addr "192.0.2.$((10 + i))" --server 203.0.113.100 --natt \
		--count $K --start-at "$start" --timeout 10 \
		--result "$tmp/res-$i.json"
done
for i in 1 2; do
	for _ in $(seq 150); do [ -s "$tmp/res-$i.json" ] && break; sleep 0.1; done
done

# --- Prometheus: parsed by prometheus_client, compared with stats
ctl -j stats >"$tmp/stats.json"
ctl stats --prometheus >"$tmp/stats.prom"
echo "--- espmasqctl stats --prometheus (first lines):"
head -12 "$tmp/stats.prom"
cat >"$tmp/p.py" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
stats = {}                                # (scope, queue, key) -> value
for line in open(sys.argv[2]):
    kv = json.loads(line)
    if kv.pop("type") != "stat":
        continue
    scope, queue = kv.pop("scope"), kv.pop("queue", None)
    for k, v in kv.items():
        stats[(scope, None if queue is None else str(queue), k)] = str(v)
fams = list(text_string_to_metric_families(text))
names = [f.name for f in fams]
assert len(names) == len(set(names)), "a family printed twice"
got = {}
for fam in fams:
    for s in fam.samples:
        got[(s.name, tuple(sorted(s.labels.items())))] = s.value
def want(name, value, **labels):
    key = (name, tuple(sorted(labels.items())))
    assert key in got, "missing %s %s" % (name, labels)
    assert got[key] == float(value), (name, labels, got[key], value)
n = 0
for (scope, queue, k), v in stats.items():
    if k == "cpu" or not v.isdigit():
        continue
    lab = {"queue": queue} if queue else {}
    for pre, label, metric in (("drop_", "reason", "dropped_by_reason"),
                               ("kind_", "kind", "packets_by_kind"),
                               ("batch_", "size", "bursts_by_size")):
        if k.startswith(pre):
            lab[label] = k[len(pre):]
            k = metric
            break
    name = "espmasq_%s_%s" % (scope, k.replace("-", "_"))
    key = (name, tuple(sorted(lab.items())))
    if key not in got:
        name += "_total"
    want(name, v, **lab)
    n += 1
types = {f.name: f.type for f in fams}
assert types["espmasq_sessions_active"] == "gauge"
assert types["espmasq_queue_packets"] == "counter"
assert got[("espmasq_sessions_active", ())] == 2.0
assert n >= 100, n
print("%d families, %d samples, all %d stat values found" %
      (len(fams), len(got), n))
PY
check "stats --prometheus: valid for the Prometheus parser, same numbers as stats" \
	'"$PYTHON" "$tmp/p.py" "$tmp/stats.prom" "$tmp/stats.json"'
check "stats --prometheus refuses -j and other commands" \
	'! ctl -j --prometheus stats 2>/dev/null && ! ctl --prometheus sessions 2>/dev/null'
# the file is rewritten every 15 s: wait for one after the traffic
m0=$(stat -c %Y "$tmp/espmasq.prom")
for _ in $(seq 200); do
	[ "$(stat -c %Y "$tmp/espmasq.prom")" != "$m0" ] && break
	sleep 0.1
done
ctl stats >"$tmp/stats2.txt"
check "the metrics file was rewritten" '[ "$(stat -c %Y "$tmp/espmasq.prom")" != "$m0" ]'
check "metrics file: valid, sessions and packets as espmasqctl counts them" \
	'"$PYTHON" -c "
import sys
from prometheus_client.parser import text_string_to_metric_families as p
g = {}
for f in p(open(sys.argv[1]).read()):
    for s in f.samples:
        g[(s.name, tuple(sorted(s.labels.items())))] = s.value
assert g[(\"espmasq_sessions_active\", ())] == 2
assert g[(\"espmasq_sessions_created_total\", ())] == 2
assert sum(v for (n, l), v in g.items() if n == \"espmasq_queue_packets_total\") >= 4 * $K
" "$tmp/espmasq.prom"'
check "no temporary metrics file left" '[ ! -e "$tmp/espmasq.prom.tmp" ]'

# --- who may talk to the socket
ls -ld "$tmp/run" "$sock"
check "the socket belongs to the control group, mode 0660" \
	'[ "$(stat -c "%a %G" "$sock")" = "660 nogroup" ]'
check "root may" 'ctl stats >/dev/null'
check "nobody, in the control group, may" 'as 65534 65534 "$ESPMASQCTL" -s "$sock" sessions >/dev/null'
# loosen the file permissions: the daemon still checks the peer
chmod 0777 "$tmp/run"
chmod 0666 "$sock"
out=$(as 65534 1 "$ESPMASQCTL" -s "$sock" stats 2>&1)
rc=$?
echo "an unprivileged user outside the group: exit $rc: $out"
check "an unprivileged user outside the group is refused, even with loose permissions" \
	'[ $rc != 0 ] && ! grep -q "^queue" <<<"$out"'
check "daemon still running" 'ctl stats >/dev/null'
echo "metrics: $pass passed, $fail failed"
[ $fail = 0 ]
