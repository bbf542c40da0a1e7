#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# contrib/espmasq-rules in a namespace of its own: applying twice leaves one
# jump per chain, the printed rules are loaded, switching fail-policy or
# mode in place leaves nothing of the other, removing leaves nothing of
# ours and everything of others.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ESPMASQD=${ESPMASQD:-$here/../../build/espmasqd}
ns=emr$$
tmp=$(mktemp -d)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$tmp"' EXIT
. "$here/lib.sh"

ip netns add $ns || { echo "needs root and network namespaces"; exit 1; }
cat > "$tmp/e.conf" <<CONF
inside 192.0.2.0/24
alias 203.0.113.11-203.0.113.13
pin 192.0.2.20 203.0.113.20
server 203.0.113.100/31
queues 0-1
CONF
rules() { ip netns exec $ns env ESPMASQD="$ESPMASQD" \
	"$here/../../contrib/espmasq-rules" -f "$tmp/e.conf" "$@"; }
ip netns exec $ns iptables -t mangle -A PREROUTING -m comment \
	--comment not-ours -j ACCEPT
ip netns exec $ns iptables -t raw -A PREROUTING -m comment \
	--comment not-ours -j ACCEPT

check "first apply" "rules apply"
check "second apply" "rules apply"
save=$(ip netns exec $ns iptables-save)
check "one jump each after two applies" \
	'[ "$(grep -cE "^-A (PRE|POST)ROUTING -j ESPMASQ-" <<<"$save")" = 4 ]'
check "inbound queue rule present" \
	'grep -q -- "-A ESPMASQ-IN -s 203.0.113.100/31 -p esp -m iprange --dst-range 203.0.113.11-203.0.113.13 -j NFQUEUE --queue-balance 0:1" <<<"$save"'
check "pinned alias range present" \
	'grep -q -- "--dst-range 203.0.113.20-203.0.113.20" <<<"$save"'
check "outbound notrack present" \
	'grep -q -- "-A ESPMASQ-RAW -s 192.0.2.0/24 -d 203.0.113.100/31 -p esp -j CT --notrack" <<<"$save"'
# switching policies in place: each apply replaces what the other put
echo "fail-policy bypass" >> "$tmp/e.conf"
check "apply with fail-policy bypass" "rules apply"
save=$(ip netns exec $ns iptables-save)
check "bypass: heartbeat on the notrack rules" \
	'grep -q -- "-A ESPMASQ-RAW -s 192.0.2.0/24 -d 203.0.113.100/31 -p esp -m recent --rcheck --seconds 3 --name espmasq --mask 0.0.0.0 --rsource -j CT --notrack" <<<"$save"'
check "bypass: the kernel's SNAT for what bypassed" \
	'grep -q -- "-A ESPMASQ-NAT -s 192.0.2.0/24 -d 203.0.113.100/31 -p esp -j SNAT --to-source 203.0.113.11-203.0.113.13" <<<"$save"'
check "bypass: still one jump each" \
	'[ "$(grep -cE "^-A (PRE|POST)ROUTING -j ESPMASQ-" <<<"$save")" = 4 ]'
sed -i '/fail-policy bypass/d' "$tmp/e.conf"
check "apply with fail-policy drop again" "rules apply"
save=$(ip netns exec $ns iptables-save)
check "drop again: no heartbeat, no SNAT, no bypass left" \
	'! grep -qE -- "recent|SNAT|bypass|-A ESPMASQ-OUTQ" <<<"$save"'
# switching modes in place: gateway rules replace the NAT's, and back
cp "$tmp/e.conf" "$tmp/nat.conf"
cat > "$tmp/e.conf" <<CONF
mode gateway
queues 0-1
gateway-mark 0xff00
gateway-service tcp 8080
CONF
check "apply mode gateway over the NAT rules" "rules apply"
save=$(ip netns exec $ns iptables-save)
check "gateway: only the INPUT and OUTPUT jumps" \
	'[ "$(grep -cE "^-A [A-Z]+ -j ESPMASQ-" <<<"$save")" = 2 ] &&
	 grep -q -- "^-A INPUT -j ESPMASQ-GWIN" <<<"$save" &&
	 grep -q -- "^-A OUTPUT -j ESPMASQ-GWOUT" <<<"$save"'
check "gateway: L2TP from marked SAs queued" \
	'grep -q -- "-A ESPMASQ-GWIN -p udp -m udp --dport 1701 -m mark ! --mark 0x0/0xff00 -j NFQUEUE --queue-balance 0:1" <<<"$save"'
check "gateway: replies of the service queued" \
	'grep -q -- "-A ESPMASQ-GWOUT -p tcp -m tcp --sport 8080 -j NFQUEUE --queue-balance 0:1" <<<"$save"'
check "gateway: nothing of the NAT left" \
	'! grep -qE -- "-A ESPMASQ-(RAW|IN|OUT|NAT) " <<<"$save"'
check "gateway: second apply" "rules apply"
save=$(ip netns exec $ns iptables-save)
check "gateway: still one jump each" \
	'[ "$(grep -cE "^-A [A-Z]+ -j ESPMASQ-" <<<"$save")" = 2 ]'
cp "$tmp/nat.conf" "$tmp/e.conf"
check "apply the NAT rules over mode gateway" "rules apply"
save=$(ip netns exec $ns iptables-save)
check "back: the NAT's four jumps, no gateway rule" \
	'[ "$(grep -cE "^-A [A-Z]+ -j ESPMASQ-" <<<"$save")" = 4 ] &&
	 ! grep -q -- "-A ESPMASQ-GW" <<<"$save"'
offtab() { ip netns exec $ns nft list table ip espmasq_offload >/dev/null 2>&1; }
check "no offload line (auto): its nft table loaded" offtab
# an nft that cannot load the table (as on a kernel before 6.5): auto
# goes on without it, on does not
printf '#!/bin/sh\necho "nft: cannot load" >&2\nexit 1\n' >"$tmp/badnft"
chmod +x "$tmp/badnft"
badrules() { ip netns exec $ns env ESPMASQD="$ESPMASQD" NFT="$tmp/badnft" \
	"$here/../../contrib/espmasq-rules" -f "$tmp/e.conf" "$@"; }
check "auto: nft failing, apply still succeeds" \
	'badrules apply 2>"$tmp/bad.err"'
check "auto: ...and says it goes on without the table" \
	'grep -q "offload auto: table espmasq_offload not loaded" "$tmp/bad.err" &&
	 grep -q "nft: cannot load" "$tmp/bad.err"'
check "auto: no nft at all, apply still succeeds" \
	'ip netns exec $ns env ESPMASQD="$ESPMASQD" NFT=/nonexistent/nft \
	 "$here/../../contrib/espmasq-rules" -f "$tmp/e.conf" apply 2>"$tmp/bad.err" &&
	 grep -q "offload auto: no nft" "$tmp/bad.err"'
cp "$tmp/e.conf" "$tmp/nooff.conf"
echo "offload off" >>"$tmp/nooff.conf"
echo "offload on" >>"$tmp/e.conf"
check "on: nft failing, apply fails" '! badrules apply 2>/dev/null'

check "apply with offload on" "rules apply"
check "offload: its nft table loaded" offtab
check "offload: its maps there" \
	'ip netns exec $ns nft list map ip espmasq_offload out_udp >/dev/null'
check "offload: show prints it" 'rules show | grep -q "^table ip espmasq_offload {"'
check "offload: second apply" "rules apply"
cp "$tmp/nooff.conf" "$tmp/e.conf"
check "apply with offload off" "rules apply"
check "offload off: its table gone" '! offtab'
check "offload off: show leaves it out" '! rules show | grep -q espmasq_offload'
sed -i 's/^offload off$/offload on/' "$tmp/e.conf"
check "apply with offload on again" "rules apply"
check "remove" "rules remove"
check "remove: the offload table gone too" '! offtab'
save=$(ip netns exec $ns iptables-save)
check "nothing of ours left" '! grep -qi espmasq <<<"$save"'
check "others untouched" '[ "$(grep -c not-ours <<<"$save")" = 2 ]'
check "remove again is harmless" "rules remove"
# nft form: this kernel has no nft queue expression (TESTING.md), so check
# that nft accepts all the rest and that the kernel objects only to queue
"$ESPMASQD" -f "$tmp/e.conf" --print-rules=nft > "$tmp/r.nft"
grep -v "queue num" "$tmp/r.nft" > "$tmp/r-noqueue.nft"
check "nft: all but the queue statements load (check mode)" \
	'ip netns exec $ns nft -c -f "$tmp/r-noqueue.nft"'
ip netns exec $ns nft -c -f "$tmp/r.nft" 2> "$tmp/nft.err"
check "nft: the kernel refuses nothing but the queue statements" \
	'[ "$(grep -c "^[[:space:]]*[a-z].*queue num" "$tmp/nft.err")" = "$(grep -c "Error:" "$tmp/nft.err")" ]'
echo "rules: $pass passed, $fail failed"
[ $fail = 0 ]
