#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Broken packets for espmasq's malformed-traffic test.

Sends, on one side of the router, one packet of every class of damage the
daemon or the kernel in front of it must survive, each as raw Ethernet
frames (so that IP headers go out as written), and prints one JSON object:
for each class, where it should end up:

  "drop_X"    counted by espmasqd under drop reason X (stats drop_X)
  "kernel"    refused by the router's IP layer before netfilter
  "any"       the kernel or the daemon decides (reassembly, say); only
              the daemon's survival and the verdict balance are checked

--side out: from an inside client toward the server; --side in: from the
server toward an alias.
"""
import argparse
import json
import struct
import sys
import time

from scapy.layers.inet import IP, UDP, ICMP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.sendrecv import sendp


def ike(ispi=0x1122334455667788, rspi=0, version=0x20, length=None, body=b""):
    n = 28 + len(body) if length is None else length
    return struct.pack("!QQBBBBII", ispi, rspi, 33, version, 34, 0x08, 0,
                       n) + body


def ip_bytes(pkt):
    return bytes(pkt)


def fix_csum(b):
    """The IP header checksum of @b (a bytearray) made right again."""
    ihl = (b[0] & 0x0F) * 4
    b[10:12] = b"\0\0"
    s = sum(struct.unpack("!%dH" % (ihl // 2), bytes(b[:ihl])))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    struct.pack_into("!H", b, 10, ~s & 0xFFFF)
    return bytes(b)


def cases(src, dst):
    """(name, expected, IP packet bytes) for every class."""
    c = []

    def add(name, expect, b):
        c.append((name, expect, b))

    base = IP(src=src, dst=dst, ttl=64)
    good_ike = ike()
    # the IP layer: the kernel checks these before any hook
    b = bytearray(ip_bytes(base / UDP(sport=500, dport=500) / Raw(good_ike)))
    b[0] = 0x44                               # IHL 4 (16 bytes)
    add("ip-ihl-4", "kernel", bytes(b))
    b = bytearray(ip_bytes(base / UDP(sport=500, dport=500) / Raw(good_ike)))
    struct.pack_into("!H", b, 2, len(b) + 40)  # longer than the data
    add("ip-length-beyond-data", "kernel", fix_csum(b))
    # the kernel trims trailing bytes to the IP length: what is left is a
    # UDP header whose length runs past it
    inner = bytearray(ip_bytes(base / UDP(sport=500, dport=500) /
                               Raw(good_ike)))
    struct.pack_into("!H", inner, 2, 20 + 8 + 10)
    add("ip-length-short-of-data", "drop_udp-length", fix_csum(inner))
    # UDP
    u = base / UDP(sport=500, dport=500, len=8 + 28 + 20) / Raw(good_ike)
    add("udp-length-too-long", "drop_udp-length", ip_bytes(u))
    u = base / UDP(sport=500, dport=500, len=12) / Raw(good_ike)
    add("udp-length-too-short", "drop_udp-length", ip_bytes(u))
    # a match reading ports drops it before the queue (hotdrop)
    add("udp-header-truncated", "any",
        ip_bytes(IP(src=src, dst=dst, proto=17) / Raw(b"\x01\xf4\x01")))
    add("udp-empty-500", "drop_ike-short",
        ip_bytes(base / UDP(sport=500, dport=500)))
    # IKE
    add("ike-truncated", "drop_ike-short",
        ip_bytes(base / UDP(sport=500, dport=500) / Raw(good_ike[:20])))
    add("ike-version-3", "drop_ike-version",
        ip_bytes(base / UDP(sport=500, dport=500) / Raw(ike(version=0x30))))
    add("ike-length-beyond", "drop_ike-length",
        ip_bytes(base / UDP(sport=500, dport=500) / Raw(ike(length=500))))
    add("ike-length-under-header", "drop_ike-length",
        ip_bytes(base / UDP(sport=500, dport=500) / Raw(ike(length=12))))
    add("ike-zero-spi", "drop_ike-spi",
        ip_bytes(base / UDP(sport=500, dport=500) / Raw(ike(ispi=0))))
    # NAT-T
    add("natt-marker-only", "drop_ike-short",
        ip_bytes(base / UDP(sport=4500, dport=4500) / Raw(b"\0\0\0\0")))
    add("natt-marker-short-ike", "drop_ike-short",
        ip_bytes(base / UDP(sport=4500, dport=4500) /
                 Raw(b"\0\0\0\0" + good_ike[:8])))
    add("natt-esp-reserved-spi", "drop_esp-spi",
        ip_bytes(base / UDP(sport=4500, dport=4500) /
                 Raw(struct.pack("!II", 7, 1) + b"x" * 16)))
    add("natt-esp-truncated", "drop_esp-short",
        ip_bytes(base / UDP(sport=4500, dport=4500) /
                 Raw(struct.pack("!I", 0x5000) + b"\0\0")))
    # ESP
    add("esp-truncated", "drop_esp-short",
        ip_bytes(IP(src=src, dst=dst, proto=50) / Raw(b"\0\0\x50\0")))
    add("esp-spi-zero", "drop_esp-spi",
        ip_bytes(IP(src=src, dst=dst, proto=50) /
                 Raw(struct.pack("!II", 0, 1) + b"y" * 16)))
    # ICMP errors quoting garbage, or nothing
    add("icmp-quote-garbage", "drop_icmp-quote",
        ip_bytes(IP(src=src, dst=dst) /
                 ICMP(type=3, code=1) / Raw(b"\x99" * 8)))
    add("icmp-quote-empty", "drop_icmp-quote",
        ip_bytes(IP(src=src, dst=dst) / ICMP(type=11, code=0)))
    # fragments: out of order, overlapping, and a datagram of the
    # largest size; what reaches the queue depends on reassembly
    big = base / UDP(sport=500, dport=500) / Raw(ike(body=b"z" * 2000))
    frags = fragment(big, fragsize=600)
    for i, f in enumerate(reversed(frags)):
        add("fragments-reversed-%d" % i, "any", ip_bytes(f))
    ov = fragment(base / UDP(sport=500, dport=500) /
                  Raw(ike(body=b"o" * 1200)), fragsize=400)
    if len(ov) >= 2:
        dup = ov[1].copy()
        dup.frag = max(dup.frag - 8, 1)       # overlaps its neighbour
        for i, f in enumerate([ov[0], dup] + list(ov[1:])):
            add("fragments-overlapping-%d" % i, "any", ip_bytes(f))
    huge = base / UDP(sport=500, dport=500) / Raw(ike(body=b"h" * 65000))
    for i, f in enumerate(fragment(huge, fragsize=1400)):
        add("datagram-64k-%d" % i, "any", ip_bytes(f))
    return c


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--side", choices=("out", "in"), required=True)
    p.add_argument("--iface", required=True)
    p.add_argument("--mac", required=True, help="the router's MAC")
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--gap", type=float, default=0.01)
    a = p.parse_args()
    sent = {}
    for name, expect, b in cases(a.src, a.dst):
        sendp(Ether(dst=a.mac, type=0x0800) / Raw(b), iface=a.iface,
              verbose=False)
        sent[name] = expect
        time.sleep(a.gap)
    json.dump(sent, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
