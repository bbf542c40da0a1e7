#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every integration test (each builds and removes its own network
# namespaces) and prints one closing "N passed, M failed" line.
set -u
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
	echo "integration tests need root and network namespaces" >&2
	exit 1
fi

tests=(test_rules_apply.sh test_kernel_control.sh test_masquerade.sh
	test_shared_scapy.sh test_strongswan.sh test_strongswan_defrag.sh
	test_strongswan_control.sh test_strongswan_shared.sh test_reload.sh
	test_state.sh test_packaging.sh test_ctl.sh test_metrics.sh
	test_failpolicy.sh test_privs.sh test_overload.sh test_malformed.sh
	test_flood.sh test_memcheck.sh test_gateway_l2tp.sh test_offload.sh
	test_bench_smoke.sh)
pass=0 fail=0 failed=()
for t in "${tests[@]}"; do
	echo "=== $t"
	if timeout 600 bash "./$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		failed+=("$t")
	fi
done
[ $fail -eq 0 ] || echo "failed: ${failed[*]}"
echo "integration: $pass passed, $fail failed"
[ $fail -eq 0 ]
