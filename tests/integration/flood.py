#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Floods for espmasq's flood test, as fast as one socket sends.

spi:     N packets from --src to the aliases (round robin): raw ESP, ESP in
         UDP/4500 and IKE on udp/500, every SPI random, none of them known.
servers: one IKE_SA_INIT from --src to each address of the --servers
         networks, which would each open a session.
Frames are built first and sent through an AF_PACKET socket; prints the
count and the seconds taken as JSON.
"""
import argparse
import ipaddress
import json
import random
import socket
import struct
import sys
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw


def ike(ispi, rspi):
    return struct.pack("!QQBBBBII", ispi, rspi, 33, 0x20, 34, 0x08, 0, 28)


def frames_spi(src, aliases, n, mac, rnd):
    out = []
    for i in range(n):
        dst = aliases[i % len(aliases)]
        k = i % 3
        if k == 0:
            p = IP(src=src, dst=dst, proto=50) / Raw(
                struct.pack("!II", rnd.randrange(256, 1 << 32), 1) + b"e" * 32)
        elif k == 1:
            p = IP(src=src, dst=dst) / UDP(sport=4500, dport=4500) / Raw(
                struct.pack("!II", rnd.randrange(256, 1 << 32), 1) + b"u" * 32)
        else:
            p = IP(src=src, dst=dst) / UDP(sport=500, dport=500) / Raw(
                ike(rnd.randrange(1, 1 << 64), rnd.randrange(0, 1 << 64)))
        out.append(bytes(Ether(dst=mac, type=0x0800) / p))
    return out


def frames_servers(src, nets, mac, rnd):
    out = []
    for net in nets:
        for dst in ipaddress.ip_network(net).hosts():
            p = IP(src=src, dst=str(dst)) / UDP(sport=500, dport=500) / Raw(
                ike(rnd.randrange(1, 1 << 64), 0))
            out.append(bytes(Ether(dst=mac, type=0x0800) / p))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=("spi", "servers"))
    p.add_argument("--iface", required=True)
    p.add_argument("--mac", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--aliases", nargs="*", default=[])
    p.add_argument("--servers", nargs="*", default=[])
    p.add_argument("--count", type=int, default=100000)
    a = p.parse_args()
    rnd = random.Random(7)
    if a.kind == "spi":
        frames = frames_spi(a.src, a.aliases, a.count, a.mac, rnd)
    else:
        frames = frames_servers(a.src, a.servers, a.mac, rnd)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    t0 = time.time()
    sent = 0
    for f in frames:
        while True:
            try:
                s.send(f)
                break
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as e:
                if e.errno != 105:         # ENOBUFS: the qdisc is full
                    raise
                time.sleep(0.001)
        sent += 1
    json.dump({"sent": sent, "secs": round(time.time() - t0, 3)}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
