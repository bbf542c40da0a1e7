#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""L2TPv2 (RFC 2661) test peers for espmasq's gateway-mode tests.

client: an L2TP LAC on a plain UDP socket (no PPP) bound to ADDR:1701.
        Brings a control connection up with the gateway's L2TP server
        (SCCRQ with its own Assigned Tunnel ID, SCCRP, SCCCN), opens an
        incoming call (ICRQ with its own Assigned Session ID, ICRP, ICCN),
        then sends HELLOs and L2TP data messages at a modest rate until
        the duration is over, and closes with a StopCCN.  Control
        messages are sequenced and retransmitted as RFC 2661 5.8 asks,
        acknowledged with ZLBs.  Every L2TP message received is recorded
        by the tunnel ID of its header: a message whose header does not
        carry the Assigned Tunnel ID this client sent was meant for
        another client (misdelivered), and is otherwise ignored.  Prints,
        or writes, a JSON summary.
data:   run on the gateway: sends L2TP data messages (T=0, L=1) from
        SRC:1701 to DST:1701 through a raw IP socket, so that they pass
        the gateway's own netfilter OUTPUT hooks and routing as the L2TP
        server's packets would, round robin over the given (tunnel ID,
        session ID) pairs of the clients.  Writes a JSON summary.

Data messages always carry the length field (L=1), so that the tunnel ID
sits at the same offset as in control messages and the test's u32
counters can read it.
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

PORT = 1701
F_T, F_L, F_S, F_O, F_P = 0x8000, 0x4000, 0x0800, 0x0200, 0x0100
VER2 = 2

# RFC 2661 4.4: message types
SCCRQ, SCCRP, SCCCN, STOPCCN, HELLO = 1, 2, 3, 4, 6
OCRQ, OCRP, OCCN, ICRQ, ICRP, ICCN, CDN, WEN, SLI = 7, 8, 9, 10, 11, 12, 14, 15, 16
NAMES = {0: "ZLB", SCCRQ: "SCCRQ", SCCRP: "SCCRP", SCCCN: "SCCCN",
         STOPCCN: "StopCCN", HELLO: "HELLO", OCRQ: "OCRQ", OCRP: "OCRP",
         OCCN: "OCCN", ICRQ: "ICRQ", ICRP: "ICRP", ICCN: "ICCN", CDN: "CDN",
         WEN: "WEN", SLI: "SLI"}

# RFC 2661 4.4: attribute types
A_MSG, A_RESULT, A_PROTO, A_FRAMING_CAP, A_BEARER_CAP = 0, 1, 2, 3, 4
A_HOST, A_VENDOR, A_TID, A_RWS = 7, 8, 9, 10
A_SID, A_SERIAL, A_BEARER_TYPE, A_FRAMING_TYPE, A_TX_SPEED = 14, 15, 18, 19, 24


def seq_lt(a, b):
    """a comes before b in 16-bit sequence space."""
    return a != b and ((b - a) & 0xFFFF) < 0x8000


def avp(attr, value, mandatory=True):
    return struct.pack("!HHH", (0x8000 if mandatory else 0) | (6 + len(value)),
                       0, attr) + value


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


def control(tid, sid, ns, nr, avps=b""):
    return struct.pack("!HHHHHH", F_T | F_L | F_S | VER2, 12 + len(avps),
                       tid, sid, ns, nr) + avps


def data(tid, sid, payload):
    return struct.pack("!HHHH", F_L | VER2, 8 + len(payload), tid,
                       sid) + payload


def parse(buf):
    """The header and, for control messages, the AVPs of an L2TPv2
    message; None when it is not one."""
    if len(buf) < 6:
        return None
    flags = struct.unpack_from("!H", buf)[0]
    if flags & 0xF != VER2:
        return None
    m = {"ctl": bool(flags & F_T), "avps": {}, "ns": None, "nr": None}
    off = 2
    if flags & F_L:
        m["len"] = struct.unpack_from("!H", buf, off)[0]
        off += 2
    if len(buf) < off + 4:
        return None
    m["tid"], m["sid"] = struct.unpack_from("!HH", buf, off)
    off += 4
    if flags & F_S:
        if len(buf) < off + 4:
            return None
        m["ns"], m["nr"] = struct.unpack_from("!HH", buf, off)
        off += 4
    if flags & F_O:
        if len(buf) < off + 2:
            return None
        off += 2 + struct.unpack_from("!H", buf, off)[0]
    if not m["ctl"]:
        m["payload"] = buf[off:]
        return m
    if m["ns"] is None or "len" not in m:
        return None
    end = min(len(buf), m["len"])
    while off + 6 <= end:
        fl, vendor, attr = struct.unpack_from("!HHH", buf, off)
        alen = fl & 0x3FF
        if alen < 6 or off + alen > end:
            return None
        if vendor == 0 and attr not in m["avps"]:
            # a hidden AVP's value is encrypted: keep it unread
            m["avps"][attr] = None if fl & 0x4000 else buf[off + 6:off + alen]
        off += alen
    mt = m["avps"].get(A_MSG)
    m["type"] = struct.unpack("!H", mt)[0] if mt and len(mt) == 2 else 0
    if m["type"] == 0 and m["avps"]:
        return None         # AVPs without a readable Message Type
    return m


def avp16(m, attr):
    v = m["avps"].get(attr)
    return struct.unpack("!H", v[:2])[0] if v and len(v) >= 2 else None


class Client:
    def __init__(self, a):
        self.a = a
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((a.addr, PORT))
        self.peer = (a.gw, PORT)
        self.ns = 0                 # Ns of the next control message
        self.nr = 0                 # Ns expected next from the gateway
        self.unacked = []           # [ns, bytes, due, tries]
        self.rws = 4                # the gateway's window, from its SCCRP
        self.gw_tid = 0
        self.gw_sid = 0
        self.tunnel = "sccrq-sent"
        self.call = "none"
        self.r = {"addr": a.addr, "tid": a.tid, "sid": a.sid, "gw_tid": 0,
                  "gw_sid": 0, "tunnel": "", "call": "", "ctl_rx": 0,
                  "zlb_rx": 0, "ctl_types": {}, "data_rx": 0,
                  "data_wrong_session": 0, "misdelivered": 0,
                  "misdelivered_ctl": 0, "misdelivered_data": 0,
                  "foreign_tids": {}, "duplicates": 0, "out_of_order": 0,
                  "not_l2tp": 0, "ctl_tx": 0, "zlb_tx": 0, "hello_tx": 0,
                  "data_tx": 0, "retransmits": 0, "cdn_result": None,
                  "stopccn_rx": 0, "events": []}

    def event(self, what):
        self.r["events"].append("%.3f %s" % (time.time() - self.t0, what))

    def send_ctl(self, mtype, tid, sid, avps):
        pkt = control(tid, sid, self.ns, self.nr,
                      avp(A_MSG, u16(mtype)) + avps)
        self.unacked.append([self.ns, pkt, time.time() + 1.0, 1])
        self.ns = (self.ns + 1) & 0xFFFF
        self.sock.sendto(pkt, self.peer)
        self.r["ctl_tx"] += 1
        self.event("tx %s ns=%d" % (NAMES[mtype], (self.ns - 1) & 0xFFFF))

    def send_zlb(self):
        self.sock.sendto(control(self.gw_tid, 0, self.ns, self.nr), self.peer)
        self.r["zlb_tx"] += 1

    def window_open(self):
        return len(self.unacked) < self.rws

    def sccrq(self):
        a = self.a
        self.send_ctl(SCCRQ, 0, 0,
                      avp(A_PROTO, b"\x01\x00") +
                      avp(A_FRAMING_CAP, u32(3)) +
                      avp(A_BEARER_CAP, u32(0)) +
                      avp(A_HOST, ("lac-%d" % a.tid).encode()) +
                      avp(A_VENDOR, b"espmasq-test", mandatory=False) +
                      avp(A_TID, u16(a.tid)) +
                      avp(A_RWS, u16(4)))

    def icrq(self):
        self.send_ctl(ICRQ, self.gw_tid, 0,
                      avp(A_SID, u16(self.a.sid)) +
                      avp(A_SERIAL, u32(self.a.tid)) +
                      avp(A_BEARER_TYPE, u32(0)))
        self.call = "icrq-sent"

    def handle(self, m):
        """A control message of our tunnel, in sequence."""
        t = m["type"]
        sent = False
        if t == SCCRP:
            self.gw_tid = avp16(m, A_TID) or 0
            self.rws = avp16(m, A_RWS) or 4
            self.send_ctl(SCCCN, self.gw_tid, 0, b"")
            self.tunnel = "established"
            self.icrq()
            sent = True
        elif t == ICRP and self.call == "icrq-sent":
            self.gw_sid = avp16(m, A_SID) or 0
            self.send_ctl(ICCN, self.gw_tid, self.gw_sid,
                          avp(A_TX_SPEED, u32(10000000)) +
                          avp(A_FRAMING_TYPE, u32(1)))
            self.call = "iccn-sent"
            sent = True
        elif t == CDN:
            v = m["avps"].get(A_RESULT)
            self.r["cdn_result"] = list(v[:4]) if v else None
            self.call = "cdn-received"
        elif t == STOPCCN:
            self.r["stopccn_rx"] += 1
            self.tunnel = "stopccn-received"
        return sent

    def receive(self, buf):
        m = parse(buf)
        if m is None:
            self.r["not_l2tp"] += 1
            return
        kind = "ctl" if m["ctl"] else "data"
        if m["tid"] != self.a.tid:
            self.r["misdelivered"] += 1
            self.r["misdelivered_" + kind] += 1
            k = str(m["tid"])
            self.r["foreign_tids"][k] = self.r["foreign_tids"].get(k, 0) + 1
            return
        if not m["ctl"]:
            self.r["data_rx"] += 1
            if m["sid"] != self.a.sid:
                self.r["data_wrong_session"] += 1
            return
        name = NAMES.get(m["type"], str(m["type"]))
        self.r["ctl_rx"] += 1
        self.r["ctl_types"][name] = self.r["ctl_types"].get(name, 0) + 1
        if m["type"] == 0:
            self.r["zlb_rx"] += 1
        # its Nr acknowledges everything of ours before it
        self.unacked = [u for u in self.unacked if not seq_lt(u[0], m["nr"])]
        if m["type"] == 0:
            return
        self.event("rx %s ns=%d nr=%d" % (name, m["ns"], m["nr"]))
        if m["ns"] == self.nr:
            self.nr = (self.nr + 1) & 0xFFFF
            if not self.handle(m):
                self.send_zlb()
        elif seq_lt(m["ns"], self.nr):
            self.r["duplicates"] += 1       # our ack was lost: again
            self.send_zlb()
        else:
            self.r["out_of_order"] += 1     # a gap: the gateway resends

    def retransmit(self, now):
        for u in self.unacked:
            if u[2] <= now and u[3] <= self.a.retries:
                self.sock.sendto(u[1], self.peer)
                u[2] = now + min(8.0, 2.0 ** u[3])
                u[3] += 1
                self.r["retransmits"] += 1

    def run(self):
        a = self.a
        delay = a.start_at - time.time()
        if delay > 0:
            time.sleep(delay)
        self.t0 = time.time()
        end = self.t0 + a.duration
        # clients started at one instant must not send in lockstep:
        # random phases and gaps, so that which client sent last before
        # the gateway sends varies as it would with real clients
        rnd = random.Random(a.tid)
        self.sccrq()
        next_hello = self.t0 + a.hello * rnd.uniform(0.5, 1.5)
        next_data = self.t0
        closing_until = None
        while True:
            now = time.time()
            if closing_until is None and now >= end:
                if self.gw_tid and self.tunnel == "established":
                    self.send_ctl(STOPCCN, self.gw_tid, 0,
                                  avp(A_RESULT, u16(1)) +
                                  avp(A_TID, u16(a.tid)))
                    self.tunnel = "stopccn-sent"
                closing_until = now + 1.0
            if closing_until is not None and (
                    now >= closing_until or not self.unacked):
                break
            up = self.tunnel == "established"
            if up and closing_until is None:
                if now >= next_hello:
                    next_hello = now + a.hello * rnd.uniform(0.5, 1.5)
                    if self.window_open():
                        self.send_ctl(HELLO, self.gw_tid, 0, b"")
                        self.r["hello_tx"] += 1
                if a.rate and self.gw_sid and now >= next_data:
                    next_data = now + rnd.uniform(0.5, 1.5) / a.rate
                    self.sock.sendto(
                        data(self.gw_tid, self.gw_sid,
                             b"\xff\x03\x00\x21lac %d data %d" %
                             (a.tid, self.r["data_tx"])), self.peer)
                    self.r["data_tx"] += 1
            self.retransmit(now)
            due = [next_hello, next_data, end if closing_until is None
                   else closing_until] + [u[2] for u in self.unacked]
            wait = max(0.0, min(due) - time.time())
            rd, _, _ = select.select([self.sock], [], [], min(wait, 0.2))
            if rd:
                buf, src = self.sock.recvfrom(4096)
                self.receive(buf)
        self.r["gw_tid"] = self.gw_tid
        self.r["gw_sid"] = self.gw_sid
        self.r["tunnel"] = self.tunnel
        self.r["call"] = self.call
        self.r["unacked_at_end"] = len(self.unacked)
        return self.r


def run_client(a):
    r = Client(a).run()
    out = json.dumps(r, sort_keys=True)
    if a.result:
        tmp = a.result + ".tmp"
        with open(tmp, "w") as f:
            f.write(out + "\n")
        os.rename(tmp, a.result)
    else:
        print(out)


def run_data(a):
    from scapy.layers.inet import IP, UDP
    targets = []
    for t in a.to:
        tid, sid = (int(x, 0) for x in t.split(":"))
        targets.append((tid, sid))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    delay = a.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    sent = {"%d:%d" % t: 0 for t in targets}
    errors = 0
    step = 1.0 / (a.rate * len(targets))
    t0 = time.time()
    n = 0
    while True:
        due = t0 + n * step
        if due >= t0 + a.duration:
            break
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        tid, sid = targets[n % len(targets)]
        k = "%d:%d" % (tid, sid)
        payload = data(tid, sid, b"\xff\x03\x00\x21lns data %d" % sent[k])
        pkt = bytes(IP(src=a.src, dst=a.dst) / UDP(sport=PORT, dport=PORT) /
                    payload)
        try:
            s.sendto(pkt, (a.dst, 0))
            sent[k] += 1
        except OSError:
            errors += 1
        n += 1
    out = json.dumps({"sent": sent, "errors": errors}, sort_keys=True)
    if a.result:
        with open(a.result + ".tmp", "w") as f:
            f.write(out + "\n")
        os.rename(a.result + ".tmp", a.result)
    else:
        print(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client", help="an L2TP client (LAC) without PPP")
    c.add_argument("--addr", required=True, help="local address, port 1701")
    c.add_argument("--gw", required=True, help="the gateway's address")
    c.add_argument("--tid", type=int, required=True,
                   help="the Assigned Tunnel ID this client sends")
    c.add_argument("--sid", type=int, required=True,
                   help="the Assigned Session ID this client sends")
    c.add_argument("--duration", type=float, default=10)
    c.add_argument("--rate", type=float, default=4,
                   help="data messages per second (0: none)")
    c.add_argument("--hello", type=float, default=1.0,
                   help="seconds between HELLOs")
    c.add_argument("--retries", type=int, default=6)
    c.add_argument("--start-at", type=float, default=0)
    c.add_argument("--result", help="write the JSON summary here")
    d = sub.add_parser("data", help="gateway-to-client L2TP data messages")
    d.add_argument("--src", required=True)
    d.add_argument("--dst", required=True)
    d.add_argument("--to", action="append", required=True,
                   metavar="TID:SID", help="a client's tunnel and session ID")
    d.add_argument("--rate", type=float, default=4,
                   help="messages per second to each client")
    d.add_argument("--duration", type=float, default=5)
    d.add_argument("--start-at", type=float, default=0)
    d.add_argument("--result")
    a = p.parse_args()
    if a.cmd == "client":
        if not 0 < a.tid < 65536 or not 0 < a.sid < 65536:
            sys.exit("tunnel and session IDs are 1..65535")
        run_client(a)
    else:
        run_data(a)


if __name__ == "__main__":
    main()
