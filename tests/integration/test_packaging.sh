#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What `make install` puts on a router: binaries, the example config, man
# pages that render without warnings, a systemd unit systemd-analyze
# accepts, bash completion that completes; and the readiness protocol the
# unit relies on (Type=notify: READY, RELOADING, STOPPING on
# $NOTIFY_SOCKET).  Needs root (a network namespace for the daemon).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ESPMASQD=${ESPMASQD:-$root/build/espmasqd}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
ns=emp$$
cleanup() { ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
. "$here/lib.sh"

inst=$tmp/root
make -s -C "$root" install DESTDIR="$inst" PREFIX=/usr >"$tmp/install.log" 2>&1
check "make install succeeds" '[ $? = 0 ]' || cat "$tmp/install.log"
check "the installed binaries are hardened (PIE, full RELRO, NX stack, stack protector, fortify)" \
	'"$root/tests/check-hardening.sh" "$inst/usr/sbin/espmasqd" "$inst/usr/sbin/espmasqctl"'
for f in usr/sbin/espmasqd usr/sbin/espmasqctl usr/sbin/espmasq-rules \
	etc/espmasq/espmasq.conf.example usr/share/man/man8/espmasqd.8 \
	usr/share/man/man8/espmasqctl.8 usr/share/man/man8/espmasq-rules.8 \
	usr/share/man/man5/espmasq.conf.5 \
	usr/lib/systemd/system/espmasqd.service \
	usr/share/bash-completion/completions/espmasqctl; do
	check "installed: /$f" '[ -s "$inst/$f" ]'
done
check "the example config checks" \
	'"$inst/usr/sbin/espmasqd" -t -f "$inst/etc/espmasq/espmasq.conf.example" | grep -q "configuration OK"'

# man pages: rendered, with groff's warnings on, nothing said
for p in "$inst"/usr/share/man/man*/*; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
	n=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$p" 2>/dev/null | grep -c .)
	echo "$(basename "$p"): $n lines${w:+, warnings: $w}"
	check "man -l $(basename "$p") renders without warnings" '[ -z "$w" ] && [ "$n" -gt 20 ]'
done

# the unit, its commands pointed at this install
unit=$inst/usr/lib/systemd/system/espmasqd.service
check "the unit names the installed programs" \
	'grep -q "^ExecStart=/usr/sbin/espmasqd -d -f /etc/espmasq/espmasq.conf$" "$unit" && ! grep -q @ "$unit"'
sed "s|/usr/sbin/|$inst/usr/sbin/|g" "$unit" >"$tmp/espmasqd.service"
out=$(systemd-analyze verify --man=no "$tmp/espmasqd.service" 2>&1)
rc=$?
[ -n "$out" ] && echo "$out"
check "systemd-analyze verify accepts the unit" '[ $rc = 0 ] && [ -z "$out" ]'

# bash completion
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _espmasqctl; echo "${COMPREPLY[*]}"' \
		_ "$inst/usr/share/bash-completion/completions/espmasqctl" "$@"
}
check "completion: commands" '[ "$(comp espmasqctl s)" = "sessions stats" ]'
check "completion: after -s SOCKET" '[ "$(comp espmasqctl -s /x re)" = "reload" ]'
check "completion: session filters" '[ "$(comp espmasqctl sessions c)" = "client" ]'

# Type=notify: the daemon says READY once its queues are bound, RELOADING
# then READY around a reload, STOPPING when told to stop
ip netns add "$ns"
cat >"$tmp/d.conf" <<CONF
inside 192.0.2.0/24
alias 203.0.113.11
queues 7
control $tmp/d.sock
CONF
"$PYTHON" - "$tmp/notify.sock" "$tmp/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(15)
with open(sys.argv[2], "w") as log:
    try:
        while True:
            msg = s.recv(4096).decode()
            log.write(msg.replace("\n", " ") + "\n")
            log.flush()
            if "STOPPING=1" in msg:
                break
    except socket.timeout:
        pass
PY
lpid=$!
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$tmp/notify.sock ip netns exec "$ns" "$ESPMASQD" -d -f "$tmp/d.conf" 2>"$tmp/d.log" &
dpid=$!
for _ in $(seq 50); do grep -q READY "$tmp/notify.log" 2>/dev/null && break; sleep 0.1; done
kill -HUP "$dpid"
sleep 0.5
kill -TERM "$dpid"
wait "$dpid"
wait "$lpid"
echo "notifications: $(tr '\n' '|' <"$tmp/notify.log")"
check "READY, then RELOADING and READY on SIGHUP, then STOPPING" \
	'[ "$(cut -d" " -f1 "$tmp/notify.log" | tr "\n" " ")" = "READY=1 RELOADING=1 READY=1 STOPPING=1 " ]'
check "READY comes after the daemon is running" \
	'grep -q "running" "$tmp/d.log"'
echo "packaging: $pass passed, $fail failed"
[ $fail = 0 ]
