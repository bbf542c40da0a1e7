# SPDX-License-Identifier: GPL-2.0-or-later
# What every integration test uses, sourced first (topo.sh does): the
# check counter, JSON field reads, and espmasqctl against the socket of
# the test ($CTL_SOCK, by default $tmp/espmasq.sock).

PYTHON=${PYTHON:-/usr/bin/python3}
pass=0 fail=0

# check NAME EXPR: counts EXPR (evaluated) as a pass or a named failure
check() {
	if eval "$2"; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1"; fi
}

# jq_ FILE EXPR: EXPR evaluated in Python with the JSON of FILE as d
jq_() { "$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

ctl() { "$ESPMASQCTL" -s "${CTL_SOCK:-$tmp/espmasq.sock}" "$@"; }

# ctl_stat KEY: the value of KEY in the stats, summed over the lines (queues)
ctl_stat() { ctl stats | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { s += $2 } END { print s + 0 }'; }
# ctl_statmax KEY: the largest value of KEY over the lines
ctl_statmax() { ctl stats | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k && $2 > m { m = $2 } END { print m + 0 }'; }
