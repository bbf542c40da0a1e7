# SPDX-License-Identifier: GPL-2.0-or-later
# Namespace topology for espmasq's tests, sourced by the scripts.
#
#   clients ${EMP}c1..cN  192.0.2.(10+i)/24, default via 192.0.2.1
#   router  ${EMP}r       br0 192.0.2.1/24 (client links enslaved),
#                         r-out 203.0.113.1/24 (+ aliases), forwarding on
#   server  ${EMP}s       s-in 203.0.113.100/24 and .101 (two VPN servers),
#
# With a second argument MTU, topo_up puts a transit router ${EMP}m
# between the router and the servers, its link to them limited to MTU:
#   router  r-out 203.0.113.1/26 (+ aliases), default via 203.0.113.2
#   transit ${EMP}m  m-r 203.0.113.2/26, m-s 203.0.113.65/26 (mtu MTU)
#   server  s-in 203.0.113.100/26 and .101, default via 203.0.113.65
#
# Only documentation ranges; nothing is routed out of the namespaces.
# The caller sets EMP (a per-run prefix) and traps topo_down.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOPO_N=0
TOPO_PIDS=()

need_root() {
	if [ "$(id -u)" != 0 ] || ! ip netns add "${EMP}probe" 2>/dev/null; then
		echo "this test needs root and network namespaces" >&2
		exit 1
	fi
	ip netns del "${EMP}probe"
}

ns() { local n=$1; shift; ip netns exec "$EMP$n" "$@"; }

# Runs a command in the background in a namespace, tracked for cleanup.
ns_bg() {
	local n=$1; shift
	ip netns exec "$EMP$n" "$@" &
	TOPO_PIDS+=($!)
}

TOPO_PLEN=24

topo_up() {
	local i n=$1 mtu=${2:-} x nodes="r s"
	TOPO_N=$n
	TOPO_MID=${mtu:+1}
	[ -n "$mtu" ] && nodes="r m s" && TOPO_PLEN=26
	for x in $nodes $(seq -f c%g 1 "$n"); do
		ip netns add "$EMP$x"
		ns "$x" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ns "$x" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$EMP$x" link set lo up
	done
	ip -n "${EMP}r" link add br0 type bridge
	ip -n "${EMP}r" addr add 192.0.2.1/24 dev br0
	ip -n "${EMP}r" link set br0 up
	for i in $(seq 1 "$n"); do
		ip link add c-e netns "${EMP}c$i" type veth peer name "r-c$i" \
			netns "${EMP}r"
		ip -n "${EMP}c$i" addr add "192.0.2.$((10 + i))/24" dev c-e
		ip -n "${EMP}c$i" link set c-e up
		ip -n "${EMP}c$i" route add default via 192.0.2.1
		ip -n "${EMP}r" link set "r-c$i" master br0
		ip -n "${EMP}r" link set "r-c$i" up
	done
	if [ -z "$mtu" ]; then
		ip link add r-out netns "${EMP}r" type veth peer name s-in \
			netns "${EMP}s"
	else
		ip link add r-out netns "${EMP}r" type veth peer name m-r \
			netns "${EMP}m"
		ip link add m-s netns "${EMP}m" type veth peer name s-in \
			netns "${EMP}s"
		ip -n "${EMP}m" addr add 203.0.113.2/26 dev m-r
		ip -n "${EMP}m" addr add 203.0.113.65/26 dev m-s
		ip -n "${EMP}m" link set m-r up
		ip -n "${EMP}m" link set m-s mtu "$mtu" up
		ip -n "${EMP}s" link set s-in mtu "$mtu"
		ns m sysctl -qw net.ipv4.ip_forward=1
	fi
	ip -n "${EMP}r" addr add "203.0.113.1/$TOPO_PLEN" dev r-out
	ip -n "${EMP}r" link set r-out up
	ip -n "${EMP}s" addr add "203.0.113.100/$TOPO_PLEN" dev s-in
	ip -n "${EMP}s" addr add "203.0.113.101/$TOPO_PLEN" dev s-in
	ip -n "${EMP}s" link set s-in up
	if [ -z "$mtu" ]; then
		ip -n "${EMP}s" route add 192.0.2.0/24 via 203.0.113.1
	else
		ip -n "${EMP}r" route add default via 203.0.113.2
		ip -n "${EMP}s" route add default via 203.0.113.65
	fi
	ns r sysctl -qw net.ipv4.ip_forward=1
}

topo_add_aliases() {
	local a
	for a in "$@"; do
		ip -n "${EMP}r" addr add "$a/$TOPO_PLEN" dev r-out
	done
}

topo_down() {
	local p x
	for p in "${TOPO_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	TOPO_PIDS=()
	for x in $(ip netns list | awk '{print $1}' | grep "^$EMP"); do
		ip netns pids "$x" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$x" 2>/dev/null
	done
	return 0
}

# tx checksum offload on every veth end: on | off
topo_offload() {
	local i
	for i in $(seq 1 "$TOPO_N"); do
		ns "c$i" ethtool -K c-e tx "$1" >/dev/null 2>&1
		ns r ethtool -K "r-c$i" tx "$1" >/dev/null 2>&1
	done
	ns r ethtool -K r-out tx "$1" >/dev/null 2>&1
	if [ -n "${TOPO_MID:-}" ]; then
		ns m ethtool -K m-r tx "$1" >/dev/null 2>&1
		ns m ethtool -K m-s tx "$1" >/dev/null 2>&1
	fi
	ns s ethtool -K s-in tx "$1" >/dev/null 2>&1
}

# capture_start DIR: tcpdump on every client link and the server link
capture_start() {
	local i dir=$1
	for i in $(seq 1 "$TOPO_N"); do
		ns_bg "c$i" tcpdump -Q in -U -n -s 0 -i c-e -w "$dir/c$i.pcap" \
			udp port 500 or udp port 4500 or esp 2>/dev/null
	done
	ns_bg s tcpdump -Q in -U -n -s 0 -i s-in -w "$dir/s.pcap" \
		udp port 500 or udp port 4500 or esp 2>/dev/null
	sleep 1
}

capture_stop() {
	sleep 0.5
	pkill -INT -f "tcpdump -Q in -U -n -s 0 -i .* -w $1/" 2>/dev/null
	sleep 0.5
}

# check_checksums PCAP: every IP and UDP checksum in it verifies, and it
# holds at least one packet.  Prints the counts.
check_checksums() {
	local out total bad
	out=$(tshark -n -r "$1" -o ip.check_checksum:TRUE \
		-o udp.check_checksum:TRUE -T fields -e ip.checksum.status \
		-e udp.checksum.status 2>/dev/null)
	total=$(grep -c . <<<"$out")
	# status 0 = bad, 1 = good, 2 = not present/unverified
	bad=$(awk '$1 == 0 || $2 == 0' <<<"$out" | grep -c .)
	echo "$(basename "$1"): $total packets, $bad with a bad checksum"
	[ "$total" -gt 0 ] && [ "$bad" = 0 ]
}

# rules_load: the rules $tmp/espmasq.conf needs, loaded in the router
rules_load() {
	"$ESPMASQD" -f "$tmp/espmasq.conf" --print-rules |
		ns r iptables-restore --noflush || { echo "rules failed"; exit 1; }
}

# daemon_start LOG: espmasqd on $tmp/espmasq.conf in the router, its
# stderr in $tmp/LOG; waits for its control socket and sets $pid
daemon_start() {
	local pre=()
	# DAEMON_PRELOAD: a library for the daemon's LD_PRELOAD
	[ -n "${DAEMON_PRELOAD:-}" ] &&
		pre=(env "LD_PRELOAD=$DAEMON_PRELOAD" ASAN_OPTIONS=verify_asan_link_order=0)
	rm -f "$tmp/espmasq.sock"
	ns_bg r "${pre[@]}" "$ESPMASQD" -f "$tmp/espmasq.conf" -d 2>"$tmp/$1"
	for _ in $(seq 50); do [ -S "$tmp/espmasq.sock" ] && break; sleep 0.1; done
	pid=$(pgrep -f "espmasqd -f $tmp/espmasq.conf -d" | head -1)
}
