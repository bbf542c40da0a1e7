#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ICMP error checks for espmasq's namespace tests.

probe:  sends one IKE_SA_INIT header from udp/500 toward an address the path
        cannot reach (or with a TTL too small to get there), captures what leaves and what comes back on the
        interface, and writes a JSON result describing every ICMP error
        received: its checksums, and whether the packet it quotes is the one
        that was sent (apart from the TTL a router lowered and the header
        checksum that follows it).
inject: sends ICMP errors to an address, quoting a packet of the caller's
        choosing (IKE, ESP or TCP from QSRC to QDST).
"""
import argparse
import json
import struct
import sys
import time

from scapy.all import AsyncSniffer, conf, raw, send
from scapy.layers.inet import IP, ICMP, TCP, UDP
from scapy.packet import Raw

conf.verb = 0


def csum_ok(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def ike_init(ispi):
    return struct.pack("!QQBBBBII", ispi, 0, 33, 0x20, 34, 0x08, 0, 28)


def probe(a):
    pkt = IP(src=a.src, dst=a.dst, id=0x4242, ttl=a.ttl) / \
        UDP(sport=500, dport=500) / Raw(ike_init(0x0123456789ABCDEF))
    sn = AsyncSniffer(iface=a.iface, store=True,
                      filter="(udp and dst host %s) or icmp" % a.dst)
    sn.start()
    time.sleep(0.5)
    send(pkt)
    time.sleep(a.timeout)
    sn.stop()
    sent, errors = None, []
    for p in sn.results:
        if IP not in p:
            continue
        b = raw(p[IP])
        # ours, not some other packet to the same address
        if p[IP].proto == 17 and p[IP].dst == a.dst and \
                p[IP].id == 0x4242 and sent is None:
            sent = b
        elif p[IP].proto == 1 and p[IP].dst == a.src:
            errors.append(b)
    res = {"sent": sent is not None, "errors": []}
    for b in errors:
        ihl = (b[0] & 15) * 4
        tot = struct.unpack("!H", b[2:4])[0]
        icmp = b[ihl:tot]
        q = icmp[8:]
        e = {"from": ".".join(map(str, b[12:16])), "type": icmp[0],
             "code": icmp[1], "ip_ok": csum_ok(b[:ihl]),
             "icmp_ok": csum_ok(icmp), "quote_len": len(q)}
        if len(q) >= 20:
            qihl = (q[0] & 15) * 4
            e["quote_src"] = ".".join(map(str, q[12:16]))
            e["quote_dst"] = ".".join(map(str, q[16:20]))
            e["quote_ip_ok"] = csum_ok(q[:qihl])
            if sent is not None:
                n = min(len(q), len(sent))
                mine = bytearray(sent[:n])
                theirs = bytearray(q[:n])
                for off in (8, 10, 11):		# TTL and its checksum
                    mine[off] = theirs[off] = 0
                e["quote_matches"] = n >= 28 and mine == theirs
                if not e["quote_matches"]:
                    e["differ_at"] = [k for k in range(n)
                                      if mine[k] != theirs[k]]
        res["errors"].append(e)
    with open(a.result, "w") as f:
        json.dump(res, f)


def inject(a):
    if a.proto == "ike":
        inner = IP(src=a.qsrc, dst=a.qdst) / UDP(sport=500, dport=500) / \
            Raw(ike_init(0x1111222233334444))
    elif a.proto == "esp":
        inner = IP(src=a.qsrc, dst=a.qdst, proto=50) / \
            Raw(struct.pack("!II", 0x77770001, 1) + b"\0" * 32)
    else:
        inner = IP(src=a.qsrc, dst=a.qdst) / TCP(sport=40000, dport=443)
    q = raw(inner)[:28 + 8]
    for _ in range(a.count):
        send(IP(src=a.src, dst=a.dst) / ICMP(type=3, code=a.code) / Raw(q))
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--iface", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--ttl", type=int, default=64)
    p.add_argument("--timeout", type=float, default=4)
    p.add_argument("--result", required=True)
    i = sub.add_parser("inject")
    i.add_argument("--src", required=True)
    i.add_argument("--dst", required=True)
    i.add_argument("--qsrc", required=True)
    i.add_argument("--qdst", required=True)
    i.add_argument("--proto", choices=("ike", "esp", "tcp"), default="ike")
    i.add_argument("--code", type=int, default=1)
    i.add_argument("--count", type=int, default=3)
    a = ap.parse_args()
    probe(a) if a.mode == "probe" else inject(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
