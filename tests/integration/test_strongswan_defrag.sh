#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test_strongswan.sh's bring-up and ICMP phases on a router that uses
# conntrack, so the kernel reassembles IP fragments before they are queued:
# espmasqd then rewrites whole certificate messages of several kilobytes,
# and the kernel fragments them again on the way out.
here=$(cd "$(dirname "$0")" && pwd)
DEFRAG=1 PHASES="up icmp" exec bash "$here/test_strongswan.sh"
