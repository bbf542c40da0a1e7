#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Each binary given is a PIE with full RELRO (GNU_RELRO and BIND_NOW), a
# non-executable stack, the stack protector and fortified libc calls, as
# readelf shows them.  Exits 1 naming what is missing.
set -u
fail=0
no() { echo "FAIL: $1: $2"; fail=1; }
for bin in "$@"; do
	[ -f "$bin" ] || { no "$bin" "not found"; continue; }
	hdr=$(readelf -h "$bin") phdr=$(readelf -lW "$bin")
	dyn=$(readelf -dW "$bin") syms=$(readelf --dyn-syms -W "$bin")
	grep -q 'Type:.*DYN' <<<"$hdr" && grep -q 'FLAGS_1.*PIE' <<<"$dyn" ||
		no "$bin" "not a PIE"
	grep -q GNU_RELRO <<<"$phdr" || no "$bin" "no RELRO segment"
	grep -qE 'BIND_NOW|FLAGS_1.* NOW' <<<"$dyn" || no "$bin" "no BIND_NOW"
	grep -E 'GNU_STACK' <<<"$phdr" | grep -q 'RWE' &&
		no "$bin" "executable stack"
	grep -q '__stack_chk_fail' <<<"$syms" || no "$bin" "no stack protector"
	grep -qE '__[a-z]+_chk@' <<<"$syms" || no "$bin" "no fortified calls"
	[ $fail = 0 ] && echo "hardening: $bin: PIE, full RELRO, NX stack, stack protector, fortify"
done
exit $fail
