#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The control for test_strongswan.sh: its first phase through plain kernel
# MASQUERADE on one public address instead of espmasqd.  NAT-T tunnels come
# up there too (conntrack rewrites the UDP ports), but the clients share one
# address and lose their ports, which is what the test's alias and port
# checks must catch.  Passes when the strongSwan test fails on them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(NAT=kernel PHASES=up bash "$here/test_strongswan.sh" 2>&1)
rc=$?
echo "$out" | grep -E "sees it as|^FAIL|strongswan \(kernel\)" | sed 's/^FAIL/expected to fail/'
if [ $rc != 0 ] && grep -q "^FAIL: four different aliases" <<<"$out" &&
	grep -q "^FAIL: client [0-9]: the server sees udp/4500 unchanged" <<<"$out"; then
	echo "strongswan control: 1 passed, 0 failed (MASQUERADE fails the alias and port checks)"
	exit 0
fi
echo "strongswan control: 0 passed, 1 failed (the checks did not tell MASQUERADE from espmasq)"
exit 1
