#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IPsec test peers for espmasq's namespace tests.

server: a NAT-T-less legacy VPN server with static SAs per client.  Answers
        IKE headers on udp/500 and 4500 (non-ESP marker), ESP echo requests
        (raw ESP and ESP-in-UDP) with ESP echo replies, and logs every packet
        it receives as one JSON line.
client: sends IKEv2 and IKEv1 headers from udp/500, optionally NAT-T traffic
        from udp/4500, and K ESP echo requests with real encryption; checks
        that exactly its own replies come back, and counts anything else
        it receives as foreign.  Writes a JSON result.

Keys are derived from the client index, so the server holds every client's
SAs.  Only documentation addresses are used by the callers.
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

from scapy.layers.inet import IP, ICMP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.packet import Raw

INNER_DST = "198.51.100.1"
IKE_HDR = struct.Struct("!QQBBBBII")


GENERATIONS = 2      # SA generations the server knows: 0, then a rekey


def spi_c2s(i, g=0):
    return 0x1000 + i + 0x10000 * g


def spi_s2c(i, g=0):
    return 0x2000 + i + 0x10000 * g


def inner_src(i):
    return "192.0.2.%d" % (10 + i)


def make_sa(i, to_server, outer_src="0.0.0.0", outer_dst="0.0.0.0", g=0):
    d = 1 if to_server else 2
    return SecurityAssociation(
        ESP, spi=spi_c2s(i, g) if to_server else spi_s2c(i, g),
        crypt_algo="AES-CBC", crypt_key=bytes([i, d + 4 * g]) * 8,
        auth_algo="SHA2-256-128", auth_key=bytes([i + 100, d + 4 * g]) * 16,
        tunnel_header=IP(src=outer_src, dst=outer_dst))


def esp_wrap(sa, inner, src, dst):
    """Encrypts inner; returns the ESP bytes (no outer IP header)."""
    enc = sa.encrypt(inner)
    return bytes(enc[IP].payload)


def esp_unwrap(sa, esp_bytes, src, dst):
    pkt = IP(bytes(IP(src=src, dst=dst, proto=50) / Raw(esp_bytes)))
    return sa.decrypt(pkt)


def ike_reply(hdr):
    ispi, rspi, np_, ver, exch, flags, msgid, _ = IKE_HDR.unpack(hdr[:28])
    if not rspi:
        rspi = (ispi * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF or 1
    if ver >> 4 == 2:
        flags = 0x20
    return IKE_HDR.pack(ispi, rspi, 0, ver, exch, flags, msgid, 28), ispi, rspi, ver >> 4


def ike_request(ispi, ver, exch, flags=0):
    return IKE_HDR.pack(ispi, 0, 33, ver << 4, exch, flags, 0, 28)


# ---------------------------------------------------------------- server

def server(a):
    log = open(a.log, "a", buffering=1)
    socks = {}
    for addr in a.addr:
        for port in (500, 4500):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, port))
            socks[s] = (addr, port)
    esp_rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    raw_tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    # every client's SAs of every generation: SPI -> (client, generation)
    by_spi = {spi_c2s(i, g): (i, g) for i in range(1, a.clients + 1)
              for g in range(GENERATIONS)}
    rx_sa = {k: make_sa(k[0], True, g=k[1]) for k in by_spi.values()}
    seq = {}

    def emit(**kw):
        log.write(json.dumps(kw) + "\n")

    def echo_reply(k, esp_bytes, src, dst):
        """Decrypts a client's echo request; returns (inner src, reply)."""
        inner = esp_unwrap(rx_sa[k], esp_bytes, src, dst)
        if ICMP not in inner or inner[ICMP].type != 8:
            return inner.src, None
        rep = IP(src=inner.dst, dst=inner.src) / ICMP(
            type=0, id=inner[ICMP].id, seq=inner[ICMP].seq) / \
            Raw(bytes(inner[ICMP].payload))
        seq[k] = seq.get(k, 0) + 1
        sa = make_sa(k[0], False, g=k[1])
        sa.seq_num = seq[k]
        return inner.src, esp_wrap(sa, rep, dst, src)

    end = time.time() + a.duration
    while time.time() < end:
        r, _, _ = select.select(list(socks) + [esp_rx], [], [], 0.2)
        for s in r:
            if s is esp_rx:
                data, _ = s.recvfrom(65535)
                ip = IP(data)
                esp = bytes(ip.payload)
                spi = struct.unpack("!I", esp[:4])[0]
                k = by_spi.get(spi)
                if k is None:
                    emit(kind="undecryptable", src=ip.src, dst=ip.dst,
                         spi=spi)
                    continue
                i = k[0]
                try:
                    isrc, rep = echo_reply(k, esp, ip.src, ip.dst)
                except Exception as e:  # noqa: BLE001 - log and go on
                    emit(kind="undecryptable", src=ip.src, dst=ip.dst,
                         spi=spi, error=str(e))
                    continue
                emit(kind="esp", src=ip.src, dst=ip.dst, spi=spi,
                     client=i, inner_src=isrc)
                if rep:
                    out = IP(src=ip.dst, dst=ip.src, proto=50) / Raw(rep)
                    raw_tx.sendto(bytes(out), (ip.src, 0))
                continue
            addr, port = socks[s]
            data, peer = s.recvfrom(65535)
            base = dict(src=peer[0], sport=peer[1], dst=addr, dport=port)
            if port == 4500 and data == b"\xff":
                emit(kind="keepalive", **base)
            elif port == 4500 and data[:4] == b"\0\0\0\0":
                rep, ispi, rspi, ver = ike_reply(data[4:])
                emit(kind="ike-natt", ispi="%016x" % ispi, version=ver,
                     exch=data[4 + 18], **base)
                s.sendto(b"\0\0\0\0" + rep, peer)
            elif port == 4500:
                spi = struct.unpack("!I", data[:4])[0]
                k = by_spi.get(spi)
                if k is None:
                    emit(kind="undecryptable", spi=spi, **base)
                    continue
                isrc, rep = echo_reply(k, data, peer[0], addr)
                emit(kind="esp-udp", spi=spi, client=k[0], inner_src=isrc,
                     **base)
                if rep:
                    s.sendto(rep, peer)
            else:
                if len(data) < 28:
                    emit(kind="short", **base)
                    continue
                rep, ispi, rspi, ver = ike_reply(data)
                emit(kind="ike", ispi="%016x" % ispi, version=ver,
                     exch=data[18], **base)
                s.sendto(rep, peer)


# ---------------------------------------------------------------- client

def client(a):
    i = a.index
    me = a.addr
    res = dict(index=i, addr=me, server=a.server, ike_v2_ok=False,
               ike_v1_ok=False, natt_ike_ok=False, esp_sent=0, esp_ok=0,
               esp_udp_sent=0, esp_udp_ok=0, foreign=0, foreign_what=[],
               ispis=[])
    u500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u500.bind((me, 500))
    u4500 = None
    if a.natt:
        u4500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u4500.bind((me, 4500))
    esp = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    socks = [s for s in (u500, u4500, esp) if s]
    tx = make_sa(i, True)
    rx = make_sa(i, False)
    my_ispis = set()
    ike_ok = {}
    got_esp, got_udp = set(), set()

    def foreign(what):
        res["foreign"] += 1
        if len(res["foreign_what"]) < 10:
            res["foreign_what"].append(what)

    def handle(s, data, peer):
        if s is u500 or (s is u4500 and data[:4] == b"\0\0\0\0"):
            body = data if s is u500 else data[4:]
            if len(body) < 28:
                return foreign("short ike")
            ispi = IKE_HDR.unpack(body[:28])[0]
            if ispi not in my_ispis:
                return foreign("ike ispi %016x" % ispi)
            ike_ok[(s is u4500, ispi)] = True
            return None
        if s is u4500 and data == b"\xff":
            return None
        if s is esp:
            ip = IP(data)
            body = bytes(ip.payload)
            src, udp = ip.src, False
        else:
            body, src, udp = data, peer[0], True
        spi = struct.unpack("!I", body[:4])[0]
        if spi != spi_s2c(i):
            return foreign("esp spi %x" % spi)
        try:
            inner = esp_unwrap(rx, body, src, me)
        except Exception:  # noqa: BLE001
            return foreign("esp that does not decrypt")
        if ICMP not in inner or inner.dst != inner_src(i) or \
                inner[ICMP].id != 0x100 + i:
            return foreign("inner packet for someone else")
        (got_udp if udp else got_esp).add(inner[ICMP].seq)
        return None

    def pump(until, done=lambda: False):
        while time.time() < until and not done():
            r, _, _ = select.select(socks, [], [], 0.05)
            for s in r:
                data, peer = s.recvfrom(65535)
                handle(s, data, peer)

    delay = a.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    deadline = time.time() + a.timeout

    def ike(sock, ver, exch, flags, natt):
        ispi = random.getrandbits(64) | 1
        my_ispis.add(ispi)
        res["ispis"].append("%016x" % ispi)
        msg = ike_request(ispi, ver, exch, flags)
        dport = 4500 if natt else 500
        for _ in range(3):
            sock.sendto((b"\0\0\0\0" if natt else b"") + msg,
                        (a.server, dport))
            pump(min(deadline, time.time() + 1.0),
                 lambda: ike_ok.get((natt, ispi)))
            if ike_ok.get((natt, ispi)):
                return True
        return False

    res["ike_v2_ok"] = ike(u500, 2, 34, 0x08, False)
    res["ike_v1_ok"] = ike(u500, 1, 2, 0, False)
    if a.natt:
        res["natt_ike_ok"] = ike(u4500, 2, 37, 0x08, True)
        u4500.sendto(b"\xff", (a.server, 4500))

    def request(n):
        return IP(src=inner_src(i), dst=INNER_DST) / ICMP(
            type=8, id=0x100 + i, seq=n) / Raw(b"espmasq-test %d" % n)

    t0 = time.time()
    for n in range(1, a.count + 1):
        esp.sendto(esp_wrap(tx, request(n), me, a.server), (a.server, 0))
        res["esp_sent"] += 1
        if a.natt:
            u4500.sendto(esp_wrap(tx, request(1000 + n), me, a.server),
                         (a.server, 4500))
            res["esp_udp_sent"] += 1
        pump(time.time() + a.interval)
    pump(deadline, lambda: len(got_esp) >= a.count and
         (not a.natt or len(got_udp) >= a.count))
    # from the first ESP packet sent to the last reply received
    res["esp_secs"] = time.time() - t0
    pump(time.time() + a.linger)  # late strays count as foreign too
    res["esp_ok"] = len(got_esp)
    res["esp_udp_ok"] = len(got_udp)
    with open(a.result, "w") as f:
        json.dump(res, f)


# ------------------------------------------------- client on a shared alias

def shared_client(a):
    """Negotiates like a real IKEv2 peer would, as far as espmasq can see:
    IKE_SA_INIT, then IKE_AUTH (retransmitted until answered), then ESP on
    its CHILD SA; later a CREATE_CHILD_SA rekey and ESP on the new SA.
    With --natt, IKE_AUTH and later go over udp/4500 and ESP in UDP."""
    i, me = a.index, a.addr
    res = dict(index=i, addr=me, natt=a.natt, init_ok=False, auth_ok=False,
               rekey_ok=False, replies=[0] * GENERATIONS, foreign=0,
               foreign_what=[], auth_wait_ms=None, first_reply_ms=[None] *
               GENERATIONS, rekey_wait_ms=None, ike_sent={})
    u500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u500.bind((me, 500))
    u4500 = esp = None
    if a.natt:
        u4500 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u4500.bind((me, 4500))
    else:
        esp = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
    socks = [s for s in (u500, u4500, esp) if s]
    ispi = random.getrandbits(64) | 1
    answered = set()          # exchange types answered
    got = [set() for _ in range(GENERATIONS)]
    sent_at = {}

    def foreign(what):
        res["foreign"] += 1
        if len(res["foreign_what"]) < 10:
            res["foreign_what"].append(what)

    def handle(s, data, peer):
        if s is u500 or (s is u4500 and data[:4] == b"\0\0\0\0"):
            body = data if s is u500 else data[4:]
            if len(body) < 28:
                return foreign("short ike")
            hdr = IKE_HDR.unpack(body[:28])
            if hdr[0] != ispi:
                return foreign("ike ispi %016x" % hdr[0])
            answered.add(hdr[4])
            return None
        if s is u4500 and data == b"\xff":
            return None
        if s is esp:
            ip = IP(data)
            body, src = bytes(ip.payload), ip.src
        else:
            body, src = data, peer[0]
        spi = struct.unpack("!I", body[:4])[0]
        gens = [g for g in range(GENERATIONS) if spi == spi_s2c(i, g)]
        if not gens:
            return foreign("esp spi %x" % spi)
        g = gens[0]
        try:
            inner = esp_unwrap(make_sa(i, False, g=g), body, src, me)
        except Exception:  # noqa: BLE001
            return foreign("esp that does not decrypt")
        if ICMP not in inner or inner.dst != inner_src(i) or \
                inner[ICMP].id != 0x100 + i:
            return foreign("inner packet for someone else")
        if not got[g] and sent_at.get(g):
            res["first_reply_ms"][g] = round(
                (time.time() - sent_at[g]) * 1000, 1)
        got[g].add(inner[ICMP].seq)
        return None

    def pump(until, done=lambda: False):
        while time.time() < until and not done():
            r, _, _ = select.select(socks, [], [], 0.02)
            for s in r:
                data, peer = s.recvfrom(65535)
                handle(s, data, peer)

    def exchange(exch, natt, deadline):
        """Sends request @exch until it is answered, like an IKE daemon
        retransmitting; returns the wait in ms, or None."""
        msg = IKE_HDR.pack(ispi, 0 if exch == 34 else
                           (ispi * 0x9E3779B97F4A7C15 + 1) &
                           0xFFFFFFFFFFFFFFFF or 1, 33, 0x20, exch, 0x08,
                           {34: 0, 35: 1, 36: 2}[exch], 28)
        t0 = time.time()
        n = 0
        while time.time() < deadline:
            if natt:
                u4500.sendto(b"\0\0\0\0" + msg, (a.server, 4500))
            else:
                u500.sendto(msg, (a.server, 500))
            n += 1
            pump(min(deadline, time.time() + a.retransmit),
                 lambda: exch in answered)
            if exch in answered:
                res["ike_sent"][str(exch)] = n
                return round((time.time() - t0) * 1000, 1)
        res["ike_sent"][str(exch)] = n
        return None

    def ping(g, deadline):
        tx = make_sa(i, True, g=g)
        sent_at[g] = time.time()
        for n in range(1, a.count + 1):
            req = IP(src=inner_src(i), dst=INNER_DST) / ICMP(
                type=8, id=0x100 + i, seq=1000 * g + n) / \
                Raw(b"espmasq-shared %d %d" % (i, n))
            body = esp_wrap(tx, req, me, a.server)
            if a.natt:
                u4500.sendto(body, (a.server, 4500))
            else:
                esp.sendto(body, (a.server, 0))
            pump(time.time() + a.interval)
        pump(deadline, lambda: len(got[g]) >= a.count)

    delay = a.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    deadline = time.time() + a.timeout
    res["init_ok"] = exchange(34, False, deadline) is not None
    res["auth_wait_ms"] = exchange(35, a.natt, deadline)
    res["auth_ok"] = res["auth_wait_ms"] is not None
    if res["auth_ok"]:
        ping(0, deadline)
    # the rekeys start at one instant too
    delay = a.rekey_at - time.time()
    if delay > 0:
        pump(a.rekey_at)
    deadline = time.time() + a.timeout
    res["rekey_wait_ms"] = exchange(36, a.natt, deadline)
    res["rekey_ok"] = res["rekey_wait_ms"] is not None
    if res["rekey_ok"]:
        ping(1, deadline)
    pump(time.time() + a.linger)  # late strays count as foreign too
    res["replies"] = [len(x) for x in got]
    with open(a.result, "w") as f:
        json.dump(res, f)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--addr", action="append", required=True)
    s.add_argument("--clients", type=int, required=True)
    s.add_argument("--log", required=True)
    s.add_argument("--duration", type=float, default=30)
    c = sub.add_parser("client")
    c.add_argument("--index", type=int, required=True)
    c.add_argument("--addr", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--natt", action="store_true")
    c.add_argument("--count", type=int, default=5)
    c.add_argument("--start-at", type=float, default=0)
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--linger", type=float, default=0.5)
    c.add_argument("--interval", type=float, default=0.02)
    c.add_argument("--result", required=True)
    c = sub.add_parser("shared-client")
    c.add_argument("--index", type=int, required=True)
    c.add_argument("--addr", required=True)
    c.add_argument("--server", required=True)
    c.add_argument("--natt", action="store_true")
    c.add_argument("--count", type=int, default=20)
    c.add_argument("--start-at", type=float, required=True)
    c.add_argument("--rekey-at", type=float, required=True)
    c.add_argument("--timeout", type=float, default=15)
    c.add_argument("--retransmit", type=float, default=0.5)
    c.add_argument("--linger", type=float, default=0.5)
    c.add_argument("--interval", type=float, default=0.02)
    c.add_argument("--result", required=True)
    a = p.parse_args()
    {"server": server, "client": client,
     "shared-client": shared_client}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
