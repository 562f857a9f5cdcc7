#!/usr/bin/env python3
"""An IMS UE's MSRP endpoint over TCP (RFC 4975), for the data channel tests.

    msrp_ue.py --connect ADDR:PORT --to URI --from URI [--large N]
               [--expect N] [--timeout S] [--linger S]

Connects to the gateway's MSRP address (retrying until it listens), sends
one short SEND ("hello browser") and one of --large octets in two chunks
(Byte-Range, '+' then '$'), answers every SEND it gets with 200 and
reassembles messages by Message-ID and Byte-Range, and stops once --expect
messages are complete and its own three SENDs have their 200s, or after
--timeout seconds. Prints one JSON line: {"got": [{"id", "bytes", "sha",
"text"}], "oks": N, "chunks_in": N, "sent_sha": ..., "error": ...}; then
keeps the connection until the gateway closes it (or --linger seconds) and
prints {"eof": true|false}. Exit 0 when it connected and finished in time,
1 otherwise.

As a module (ims_chat_ue.py): connect_retry(host, port, deadline) -> socket
or None, and run_chat(sock, to_path, from_path, large, expect, timeout,
linger, report=None) -> (out, finished): the exchange above on a connected
socket, printing nothing (report(out) is called before the linger; out then
gets "eof"); it closes the socket.
"""
import argparse
import hashlib
import json
import re
import socket
import sys
import time


def send_chunk(sock, tid, to, frm, msg_id, body, first, total, flag):
    head = (f"MSRP {tid} SEND\r\nTo-Path: {to}\r\nFrom-Path: {frm}\r\n"
            f"Message-ID: {msg_id}\r\nByte-Range: {first}-{first + len(body) - 1}/{total}\r\n"
            f"Content-Type: text/plain\r\n\r\n")
    sock.sendall(head.encode() + body + f"\r\n-------{tid}{flag}\r\n".encode())


def connect_retry(host, port, deadline):
    """Connects to host:port, retrying until deadline (monotonic); None if not."""
    while time.monotonic() < deadline:
        try:
            return socket.create_connection((host, int(port)), timeout=1)
        except OSError:
            time.sleep(0.2)
    return None


def run_chat(sock, to_path, from_path, large, expect, timeout, linger, report=None):
    """The exchange on a connected socket, for timeout seconds (then linger
    seconds more): returns (out, finished); calls report(out) before the
    linger, then adds out["eof"]. Closes the socket."""
    deadline = time.monotonic() + timeout
    out = {"got": [], "oks": 0, "chunks_in": 0}
    sock.settimeout(0.2)
    big = bytes(ord("A") + i % 26 for i in range(large))
    out["sent_sha"] = hashlib.sha256(big).hexdigest()
    send_chunk(sock, "uetx0001", to_path, from_path, "uemsg1", b"hello browser", 1, 13, "$")
    half = large // 2
    send_chunk(sock, "uetx0002", to_path, from_path, "uemsg2", big[:half], 1, large, "+")
    send_chunk(sock, "uetx0003", to_path, from_path, "uemsg2", big[half:], half + 1, large, "$")

    buf = b""
    got = {}  # Message-ID -> {"parts": {start: bytes}, "total": N}
    start_re = re.compile(rb"MSRP ([A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}) ([A-Z]+|[0-9]{3})")

    def complete(g):
        return g["total"] >= 0 and sum(len(p) for p in g["parts"].values()) == g["total"]

    while time.monotonic() < deadline:
        done = sum(1 for g in got.values() if complete(g))
        if done >= expect and out["oks"] >= 3:
            break
        try:
            data = sock.recv(65536)
            if not data:
                out["error"] = "the gateway closed the connection"
                break
            buf += data
        except socket.timeout:
            pass
        while True:
            m = start_re.match(buf)
            if not m:
                if buf and not b"MSRP ".startswith(buf[:5]) and not buf.startswith(b"MSRP "):
                    out["error"] = "not MSRP: %r" % buf[:40]
                    buf = b""
                break
            tid = m.group(1).decode()
            end = re.compile(rb"\r\n-------" + re.escape(m.group(1)) + rb"([$#+])\r\n")
            e = end.search(buf)
            if not e:
                break
            msg = buf[:e.end()]
            buf = buf[e.end():]
            what = m.group(2).decode()
            header_end = msg.find(b"\r\n\r\n")
            head = msg[:header_end if 0 <= header_end < e.start() else e.start()].decode()
            hdrs = {}
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            if what.isdigit():
                if what == "200":
                    out["oks"] += 1
                continue
            if what != "SEND":
                continue
            ok = (f"MSRP {tid} 200 OK\r\nTo-Path: {hdrs['from-path'].split()[0]}\r\n"
                  f"From-Path: {hdrs['to-path'].split()[0]}\r\n-------{tid}$\r\n")
            sock.sendall(ok.encode())
            if not (0 <= header_end < e.start()):
                continue  # a bodiless SEND
            out["chunks_in"] += 1
            body = msg[header_end + 4:e.start()]
            br = re.match(r"(\d+)-(\d+|\*)/(\d+|\*)", hdrs.get("byte-range", "1-*/*"))
            g = got.setdefault(hdrs.get("message-id", "?"), {"parts": {}, "total": -1})
            g["parts"][int(br.group(1))] = body
            if br.group(3) != "*":
                g["total"] = int(br.group(3))
            elif e.group(1) == b"$":
                g["total"] = int(br.group(1)) - 1 + len(body)
    for mid, g in got.items():
        if not complete(g):
            out["got"].append({"id": mid, "complete": False})
            continue
        text = b"".join(g["parts"][k] for k in sorted(g["parts"]))
        entry = {"id": mid, "bytes": len(text), "sha": hashlib.sha256(text).hexdigest()}
        if len(text) < 64:
            entry["text"] = text.decode(errors="replace")
        out["got"].append(entry)
    if report:
        report(out)
    finished = sum(1 for g in got.values() if complete(g)) >= expect and out["oks"] >= 3
    # Then the connection stays up (answering nothing more) until the
    # gateway closes it or --linger seconds pass: {"eof": true} when it did.
    eof = False
    until = time.monotonic() + linger
    while finished and "error" not in out and time.monotonic() < until:
        try:
            if not sock.recv(65536):
                eof = True
                break
        except socket.timeout:
            pass
        except OSError:
            eof = True
            break
    sock.close()
    out["eof"] = eof
    return out, finished


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connect", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--from", dest="frm", required=True)
    ap.add_argument("--large", type=int, default=100000)
    ap.add_argument("--expect", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--linger", type=float, default=0)
    a = ap.parse_args()
    host, port = a.connect.rsplit(":", 1)
    deadline = time.monotonic() + a.timeout
    sock = connect_retry(host, port, deadline)
    if sock is None:
        print(json.dumps({"got": [], "oks": 0, "chunks_in": 0, "error": "no connection"}))
        return 1
    out, finished = run_chat(sock, a.to, a.frm, a.large, a.expect, deadline - time.monotonic(),
                             a.linger, report=lambda o: print(json.dumps(o), flush=True))
    print(json.dumps({"eof": out["eof"]}), flush=True)
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
