#!/usr/bin/env python3
"""An IMS UE for the system tests: SIP over UDP (RFC 3261, just enough) and an
MSRP session-mode chat over TCP (RFC 4975), against Kamailio and the gateway.

    ims_chat_ue.py answer --sip ADDR:PORT --msrp-addr IP [--msrp-port 2856]
        [--large N] [--expect N] [--timeout S] [--linger S] [--hangup-after S]
        [--audio-port N]
    ims_chat_ue.py call --sip ADDR:PORT --proxy HOST:PORT --target URI --from URI
        --msrp-addr IP [--msrp-port 2856] [same chat options] [--hangup-after S]

Binds --sip (registering is another tool's job). answer: takes one INVITE
offering m=message TCP/MSRP (else 488): 100, 180, then a 200 with an SDP
answer (a=setup:active to actpass/passive, passive to active or none: RFC
6135), resent until the ACK. call: INVITE via --proxy (Route: <sip:orig@
PROXY;lr>) offering actpass; ACK; >= 300 fails. MSRP per a=setup (active:
connect to the far a=path, retrying; passive: accept on --msrp-addr:port),
then msrp_ue.run_chat's exchange. Then a BYE: the far end's (200), or ours
--hangup-after s after the chat (call mode default 1; answer mode without
it waits for the far end's). In the dialog OPTIONS and re-INVITEs get 200,
others 501; a CANCEL before our 200 gets 200, the INVITE 487 (exit 1).
--audio-port N: answer takes an offer's m=audio on the --msrp-addr and that
port (its formats, RTP/AVP), call offers m=audio (PCMU) there before the
chat; what arrives there is echoed back; "audio" (packets: the RTP ones)
when the call ends.
One JSON line per event: invite|answered (with "sdp"), confirmed, msrp
(role, to, from), chat (run_chat's result, before any --linger), msrp_closed
(eof: the far end closed the MSRP connection within --linger), bye (by,
status), error.
Exit 0 when the call was set up, the chat finished and a BYE got its 200;
1 otherwise, by --timeout + 40 s at the latest.
"""
import argparse
import json
import os
import queue
import random
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import msrp_ue  # noqa: E402

T1, T2 = 0.5, 4.0
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported"}
MULTI = ("via", "record-route", "route")
_print_lock = threading.Lock()


def emit(event, **kw):
    with _print_lock:
        print(json.dumps({"event": event, **kw}), flush=True)


def rand(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def split_commas(v):
    """A header value's comma-separated values (commas in quotes or <> kept)."""
    return [x.strip() for x in re.findall(r'(?:"[^"]*"|<[^>]*>|[^,"<])+', v) if x.strip()]


class Msg:
    def __init__(self, data, src):
        head, _, body = data.partition(b"\r\n\r\n")
        lines = re.sub(r"\r\n[ \t]+", " ", head.decode("utf-8", "replace")).split("\r\n")
        self.first, self.src, self.hdrs = lines[0], src, []
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            k = COMPACT.get(k.strip().lower(), k.strip().lower())
            if sep:
                self.hdrs += [(k, x) for x in (split_commas(v) if k in MULTI else [v.strip()])]
        if not (self.get("via") and self.get("call-id") and self.get("cseq")):
            raise ValueError("not SIP")
        self.body = body[:int(self.get("content-length") or len(body))].decode("utf-8", "replace")
        f = self.first.split(" ", 2)
        self.is_req = not f[0].startswith("SIP/")
        self.method, self.status = (f[0], 0) if self.is_req else (None, int(f[1]))
        cs = self.get("cseq").split()
        self.cseq, self.cseq_method = int(cs[0]), cs[-1].upper()
        self.branch = param(self.get("via"), "branch")

    def get(self, name):
        return next((v for k, v in self.hdrs if k == name), None)

    def all(self, name):
        return [v for k, v in self.hdrs if k == name]


def param(v, name):
    """A header parameter (after the <URI> if any), e.g. tag or branch."""
    m = re.search(r";\s*%s=([^;,\s]+)" % name, v.rsplit(">", 1)[-1], re.I)
    return m.group(1) if m else None


def uri_of(v):
    m = re.search(r"<([^>]*)>", v)
    return m.group(1) if m else v.split(";")[0].strip()


def hostport(uri):
    """A sip: or msrp:// URI's host and port (5060 if none)."""
    m = re.match(r"(?:\w+:(?://)?)?(?:[^@;>/]*@)?(\[[^\]]+\]|[^:;>?/]+)(?::(\d+))?", uri.strip())
    return m.group(1).strip("[]"), int(m.group(2) or 5060)


def via_dest(via, src):
    """Where a response goes: the top Via's sent-by, or received/rport."""
    m = re.match(r"SIP/2\.0/\w+\s+(\[[^\]]+\]|[^:;\s]+)(?::(\d+))?(.*)", via.strip(), re.I)
    p = {k.lower(): v for k, v in re.findall(r";\s*([\w.-]+)\s*(?:=\s*([^;\s]*))?", m.group(3))}
    if "rport" in p:
        return p.get("received") or src[0], int(p["rport"]) if p["rport"] else src[1]
    return p.get("received") or m.group(1).strip("[]"), int(m.group(2) or 5060)


def parse_sdp(body):
    """The first m=message ... TCP/MSRP section's chat attributes (and every
    m= line, "media"), or None."""
    secs = re.split(r"\r?\n(?=m=)", body.strip())

    def attr(sec, name):
        m = re.search(r"^a=%s:[ \t]*(.*?)\s*$" % name, sec, re.M)
        return m.group(1) if m else None
    for sec in secs[1:]:
        if re.match(r"m=message \d+ TCP/MSRP\b", sec):
            return {"m": sec.splitlines()[0][2:].strip(), "path": attr(sec, "path"),
                    "setup": attr(sec, "setup") or attr(secs[0], "setup"),
                    "accept_types": attr(sec, "accept-types"),
                    "media": [x.splitlines()[0][2:].strip() for x in secs[1:]]}
    return None


def make_sdp(addr, port, path, setup, sess, offer_body=None, audio_port=None):
    """Our SDP: the chat; answering an offer, one m= line per offered one in
    its order: the chat, audio on audio_port (the offer's formats and
    rtpmap/fmtp lines, RTP/AVP) when given, anything else rejected."""
    chat = [f"m=message {port} TCP/MSRP *", f"a=path:{path}", "a=accept-types:text/plain",
            f"a=setup:{setup}"]
    lines = ["v=0", f"o=bob {sess} {sess} IN IP4 {addr}", "s=-", f"c=IN IP4 {addr}", "t=0 0"]
    if offer_body is None:  # our offer: audio first (on audio_port, PCMU), then the chat
        audio = [f"m=audio {audio_port} RTP/AVP 0", "a=rtpmap:0 PCMU/8000"] if audio_port else []
        return "\r\n".join(lines + audio + chat) + "\r\n"
    for sec in re.split(r"\r?\n(?=m=)", offer_body.strip())[1:]:
        first = sec.splitlines()[0]
        media, _, proto, *fmts = first[2:].split()
        if media == "message" and not any(x.startswith("m=message") for x in lines):
            lines += chat
        elif media == "audio" and audio_port:
            lines.append(f"m=audio {audio_port} {proto} {' '.join(fmts)}")
            lines += [x.strip() for x in sec.splitlines()[1:]
                      if x.startswith(("a=rtpmap:", "a=fmtp:"))]
        else:
            lines.append(f"m={media} 0 {proto} {' '.join(fmts)}")
    return "\r\n".join(lines) + "\r\n"


class Echo:
    """--audio-port: RTP echoed to where it came from, counted."""

    def __init__(self, addr, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.2)
        self.packets = 0
        self.stop = threading.Event()
        threading.Thread(daemon=True, target=self.loop).start()

    def loop(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(2048)
            except OSError:
                continue
            if len(data) >= 12 and data[0] >> 6 == 2:
                self.packets += 1
            self.sock.sendto(data, peer)


def finish(h, body):
    ct = ["Content-Type: application/sdp"] if body else []
    return "\r\n".join(h + ct + [f"Content-Length: {len(body.encode())}", "", body])


class UA:
    """The SIP side: a receiver thread answers requests (and retransmissions)
    and queues responses and the initial INVITE for the main thread."""

    def __init__(self, sip, mode):
        self.host, port = sip.rsplit(":", 1)
        self.port, self.mode, self.contact = int(port), mode, f"<sip:bob@{sip}>"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, self.port))
        self.ltag, self.lcseq, self.routes, self.final_sent, self.dialog = rand(), 1, [], False, False
        self.call_id = self.local = self.remote = self.target = self.inv_cseq = None
        self.sdp = self.uas_invite = self.ack = None  # ack: (data, dest) to resend
        self.txns = {}  # (branch, method) of requests received -> (last response, dest)
        self.lock = threading.RLock()
        self.invites, self.resp = queue.Queue(), queue.Queue()
        self.acked, self.remote_bye, self.cancelled = (threading.Event() for _ in range(3))
        threading.Thread(target=self.loop, daemon=True).start()

    def send(self, data, dest):
        self.sock.sendto(data.encode(), dest)

    def respond(self, req, code, reason, body=""):
        to = req.get("to")
        if code != 100 and not param(to, "tag"):
            to += ";tag=" + self.ltag
        h = [f"SIP/2.0 {code} {reason}"] + [f"Via: {v}" for v in req.all("via")]
        h += ["From: " + req.get("from"), "To: " + to, "Call-ID: " + req.get("call-id"),
              "CSeq: " + req.get("cseq")]
        if 100 < code < 300:
            h += [f"Record-Route: {r}" for r in req.all("record-route")]
            h.append("Contact: " + self.contact)
        data = finish(h, body)
        with self.lock:
            self.txns[(req.branch, req.method)] = (data, via_dest(req.get("via"), req.src))
            self.send(*self.txns[(req.branch, req.method)])

    def request(self, method, uri, routes, cseq, branch, to=None, body=""):
        via = f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch};rport"
        h = [f"{method} {uri} SIP/2.0", via, "Max-Forwards: 70"] + [f"Route: {r}" for r in routes]
        h += [f"From: {self.local};tag={self.ltag}", f"To: {to or self.remote}",
              f"Call-ID: {self.call_id}", f"CSeq: {cseq} {method}"]
        if method == "INVITE":
            h += ["Contact: " + self.contact, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"]
        return finish(h, body)

    def next_hop(self):
        return hostport(uri_of(self.routes[0]) if self.routes else self.target)

    def loop(self):
        while True:
            try:
                data, src = self.sock.recvfrom(65535)
            except ConnectionError:  # an ICMP error reported on some systems
                continue
            except OSError:
                return
            try:
                m = Msg(data, src)
                with self.lock:
                    if m.is_req:
                        self.on_request(m)
                    elif m.cseq_method == "INVITE" and m.cseq == self.inv_cseq and self.ack:
                        if m.status >= 200:
                            self.send(*self.ack)  # a retransmitted final response: the same ACK
                    else:
                        self.resp.put(m)
            except (ValueError, IndexError, AttributeError, TypeError):
                pass  # a keepalive, not SIP, or without the headers it needs

    def on_request(self, m):
        key = (m.branch, m.method)
        if m.method != "ACK" and key in self.txns:
            return self.send(*self.txns[key])  # a retransmission
        same_call = m.get("call-id") == self.call_id
        if m.method == "ACK":
            if same_call and m.cseq == self.inv_cseq:
                self.acked.set()
        elif m.method == "CANCEL":
            inv = self.uas_invite
            if inv is None or inv.branch != m.branch or not same_call:
                return self.respond(m, 481, "Call/Transaction Does Not Exist")
            self.respond(m, 200, "OK")
            if not self.final_sent:
                self.final_sent = True
                self.respond(inv, 487, "Request Terminated")
                self.cancelled.set()
        elif same_call and param(m.get("to") or "", "tag") == self.ltag:
            if not self.dialog:
                return self.respond(m, 481, "Call/Transaction Does Not Exist")
            ok = m.method in ("BYE", "OPTIONS", "INVITE")  # a re-INVITE gets the same SDP
            self.respond(m, *((200, "OK", self.sdp if m.method == "INVITE" else "") if ok
                              else (501, "Not Implemented")))
            if m.method == "BYE":
                self.remote_bye.set()
        elif m.method == "INVITE" and self.mode == "answer" and self.call_id is None:
            self.call_id, self.uas_invite, self.inv_cseq = m.get("call-id"), m, m.cseq
            self.respond(m, 100, "Trying")
            self.invites.put(m)
        else:
            self.respond(m, *{"INVITE": (486, "Busy Here"), "OPTIONS": (200, "OK")}.get(
                m.method, (501, "Not Implemented")))

    def transact(self, data, dest, branch, method, until):
        """A client transaction: sends data (Timer A/E retransmissions) until a
        final response (returned) or Timer B/F or until; None then."""
        invite, prov, interval, nxt = method == "INVITE", False, T1, 0.0
        timer_bf = min(until, time.monotonic() + 64 * T1)
        while time.monotonic() < (until if invite and prov else timer_bf):
            if time.monotonic() >= nxt and not (invite and prov):
                self.send(data, dest)
                nxt = time.monotonic() + interval
                interval = interval * 2 if invite else min(interval * 2, T2)
            try:
                r = self.resp.get(timeout=0.05)
            except queue.Empty:
                continue
            if r.branch != branch or r.cseq_method != method:
                continue
            if r.status >= 200:
                return r
            prov = True
            if not invite:
                interval = T2
        return None

    def bye(self, until):
        self.lcseq += 1
        branch = "z9hG4bK" + rand()
        data = self.request("BYE", self.target, self.routes, self.lcseq, branch)
        r = self.transact(data, self.next_hop(), branch, "BYE", until)
        return r.status if r else None


def chat_and_hangup(ua, a, overall, far_path, our_path, active, lsock):
    emit("confirmed")
    try:
        return chat_then_bye(ua, a, overall, far_path, our_path, active, lsock)
    finally:
        echo = getattr(ua, "echo", None)
        if echo:  # the audio echoed during the call
            emit("audio", packets=echo.packets)
            echo.stop.set()


def chat_then_bye(ua, a, overall, far_path, our_path, active, lsock):
    budget = min(a.timeout, overall - time.monotonic() - a.linger - 6)  # time left for the BYE
    chat_end = time.monotonic() + max(1.0, budget)
    emit("msrp", role="active" if active else "passive", to=far_path, **{"from": our_path})
    sock = msrp_ue.connect_retry(*hostport(far_path.split()[0]), chat_end) if active else None
    if lsock:  # passive: accept one connection
        lsock.settimeout(max(0.1, chat_end - time.monotonic()))
        try:
            sock = sock or lsock.accept()[0]
        except OSError:
            pass
        lsock.close()
    if sock is None:
        out, finished = {"got": [], "oks": 0, "chunks_in": 0, "error": "no connection"}, False
    else:
        # The chat's result as soon as it is known; then, with --linger, the
        # connection stays up until the gateway closes it ("msrp_closed").
        out, finished = msrp_ue.run_chat(sock, far_path, our_path, a.large, a.expect,
                                         max(0.0, chat_end - time.monotonic()), a.linger,
                                         report=lambda o: emit("chat", **o))
        emit("msrp_closed", eof=out.get("eof", False))
    if sock is None:
        emit("chat", **out)
    if a.hangup_after is not None and not ua.remote_bye.wait(a.hangup_after):
        status = ua.bye(overall)
        emit("bye", by="local", status=status)
        return 0 if finished and status == 200 else 1
    if ua.remote_bye.wait(max(0.0, overall - time.monotonic())):
        emit("bye", by="remote", status=200)
        return 0 if finished else 1
    emit("error", error="no BYE from the far end")
    return 1


def answer(ua, a, overall):
    try:
        inv = ua.invites.get(timeout=a.timeout)
    except queue.Empty:
        return emit("error", error="no INVITE") or 1
    offer = parse_sdp(inv.body)
    emit("invite", sdp=offer)

    def reject(code, reason, error):
        with ua.lock:
            ua.final_sent = True
            ua.respond(inv, code, reason)
        ua.acked.wait(4)  # the ACK (retransmissions get the response again)
        return emit("error", error=error) or 1
    if not offer or not offer["path"]:
        return reject(488, "Not Acceptable Here", "no m=message TCP/MSRP in the offer: 488")
    setup = "active" if offer["setup"] in ("actpass", "passive") else "passive"
    our_path = f"msrp://{a.msrp_addr}:{a.msrp_port}/{rand(12)};tcp"
    echo = Echo(a.msrp_addr, a.audio_port) if a.audio_port else None
    ua.echo = echo
    ua.sdp = make_sdp(a.msrp_addr, a.msrp_port, our_path, setup, random.randint(1, 1 << 30),
                      inv.body, a.audio_port)
    ua.local, ua.remote = inv.get("to"), inv.get("from")
    ua.target, ua.routes = uri_of(inv.get("contact") or inv.get("from")), inv.all("record-route")
    try:
        lsock = None if setup == "active" else socket.create_server((a.msrp_addr, a.msrp_port))
    except OSError as e:
        return reject(500, "Server Internal Error", f"MSRP listen: {e}")
    with ua.lock:
        if not ua.cancelled.is_set():
            ua.respond(inv, 180, "Ringing")
            ua.final_sent = ua.dialog = True
            ua.respond(inv, 200, "OK", ua.sdp)
    if ua.cancelled.is_set():
        ua.acked.wait(4)  # the 487's ACK
        return emit("error", error="CANCEL before our 200: answered 487") or 1
    interval, give_up = T1, min(overall, time.monotonic() + 64 * T1)
    while not ua.acked.wait(min(interval, max(0.0, give_up - time.monotonic()))):
        if time.monotonic() >= give_up:
            emit("error", error="no ACK for our 200")
            emit("bye", by="local", status=ua.bye(overall))
            return 1
        ua.send(*ua.txns[(inv.branch, "INVITE")])
        interval = min(interval * 2, T2)
    return chat_and_hangup(ua, a, overall, offer["path"], our_path, setup == "active", lsock)


def call(ua, a, overall):
    try:
        lsock = socket.create_server((a.msrp_addr, a.msrp_port))  # the answerer may be active
    except OSError as e:
        return emit("error", error=f"MSRP listen: {e}") or 1
    ua.call_id, ua.local, ua.remote = f"{rand(16)}@{ua.host}", f"<{a.frm}>", f"<{a.target}>"
    our_path = f"msrp://{a.msrp_addr}:{a.msrp_port}/{rand(12)};tcp"
    ua.echo = Echo(a.msrp_addr, a.audio_port) if a.audio_port else None
    ua.sdp = make_sdp(a.msrp_addr, a.msrp_port, our_path, "actpass", random.randint(1, 1 << 30),
                      audio_port=a.audio_port)
    routes, branch, ua.inv_cseq = [f"<sip:orig@{a.proxy};lr>"], "z9hG4bK" + rand(), 1
    proxy = hostport(a.proxy)
    data = ua.request("INVITE", a.target, routes, 1, branch, body=ua.sdp)
    r = ua.transact(data, proxy, branch, "INVITE", a.setup_until)
    if r is None:
        return emit("error", error="no final response to the INVITE") or 1
    if r.status >= 300:
        with ua.lock:
            ua.ack = ua.request("ACK", a.target, routes, 1, branch, r.get("to")), proxy
            ua.send(*ua.ack)
        return emit("error", error="call failed: " + r.first, status=r.status) or 1
    ua.remote, ua.target = r.get("to"), uri_of(r.get("contact") or a.target)
    ua.routes = list(reversed(r.all("record-route")))
    with ua.lock:
        ua.ack = (ua.request("ACK", ua.target, ua.routes, 1, "z9hG4bK" + rand()), ua.next_hop())
        ua.dialog = True
        ua.send(*ua.ack)
    ans = parse_sdp(r.body)
    emit("answered", status=r.status, sdp=ans)
    if not ans or not ans["path"]:
        emit("error", error="no MSRP chat in the answer")
        emit("bye", by="local", status=ua.bye(overall))
        return 1
    active = ans["setup"] in (None, "passive")  # no a=setup: RFC 4975's offerer connects
    if active:
        lsock = lsock.close()  # None
    return chat_and_hangup(ua, a, overall, ans["path"], our_path, active, lsock)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["answer", "call"])
    ap.add_argument("--sip", required=True)
    ap.add_argument("--msrp-addr", required=True)
    ap.add_argument("--proxy")
    ap.add_argument("--target")
    ap.add_argument("--from", dest="frm")
    for name, conv, default in [("--msrp-port", int, 2856), ("--large", int, 100000),
                                ("--expect", int, 2), ("--timeout", float, 60),
                                ("--linger", float, 0), ("--hangup-after", float, None),
                                ("--audio-port", int, None)]:
        ap.add_argument(name, type=conv, default=default)
    a = ap.parse_args()
    if a.mode == "call" and not (a.proxy and a.target and a.frm):
        ap.error("call needs --proxy, --target and --from")
    if a.mode == "call" and a.hangup_after is None:
        a.hangup_after = 1.0
    start = time.monotonic()
    overall = start + a.timeout + 39  # the phases' deadline; the watchdog's is 1 s later
    a.setup_until = start + a.timeout
    threading.Thread(daemon=True, target=lambda: (
        time.sleep(a.timeout + 40), emit("error", error="overall deadline"), os._exit(1))).start()
    try:
        ua = UA(a.sip, a.mode)
    except OSError as e:
        return emit("error", error=f"SIP bind {a.sip}: {e}") or 1
    return answer(ua, a, overall) if a.mode == "answer" else call(ua, a, overall)


if __name__ == "__main__":
    sys.exit(main())
