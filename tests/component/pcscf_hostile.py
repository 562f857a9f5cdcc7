#!/usr/bin/env python3
"""Hostile input against a running isthmus-pcscf (tests/component/pcscf_hostile_test.sh).

A hand-written WebSocket client (RFC 6455: HTTP upgrade offering the
subprotocol `sip`, masked frames) for W2, plain UDP sockets for Mw, and a
stand-in IMS on UDP. python3 only, no packages. Every socket has a timeout.

  pcscf_hostile.py freeport tcp|udp        a free loopback port (printed)
  pcscf_hostile.py ims PORTFILE LOG        the IMS stand-in: records every datagram
                                           (one JSON string per line in LOG) and
                                           answers REGISTER with 401
  pcscf_hostile.py CASE                    one case (below) against PCSCF_WS / PCSCF_MW
                                           ("127.0.0.1:PORT"); exit 0 when the outcome
                                           is the expected one, else 1 with why on stderr

Random input comes from random.Random with a fixed seed: every run sends the
same bytes.
"""

import base64
import hashlib
import json
import os
import random
import socket
import struct
import sys
import time

TIMEOUT = 5.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# Counts the shell script checks the daemon's counters against.
RANDOM_WS_FRAMES = 64
RANDOM_MW_DATAGRAMS = 64
# ws-flood: connections, and what pcscf_hostile_test.sh configures in
# [pcscf.admission] (flow_burst, close_after_refusals, retry_after_s).
FLOOD_CONNECTIONS = 10
FLOOD_BURST = 20
FLOOD_CLOSE_AFTER = 50
FLOOD_RETRY_AFTER = 5


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)


def endpoint(name):
    host, port = os.environ[name].rsplit(":", 1)
    return host, int(port)


# --- SIP ---------------------------------------------------------------------

_counter = [0]


def unique(prefix):
    _counter[0] += 1
    return "%s%d%d" % (prefix, os.getpid(), _counter[0])


def sip_request(method, ruri, via_transport="WS", via_host="df7jal23ls0d.invalid",
                extra=(), body=b"", content_length=None, call_id=None, aor="sip:alice@ims.example.net"):
    """A well-formed request (bytes) unless `extra`/`content_length` spoil it."""
    call_id = call_id or unique("call-")
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/%s %s;branch=z9hG4bK%s" % (via_transport, via_host, unique("b")),
        "Max-Forwards: 70",
        "From: <%s>;tag=%s" % (aor, unique("t")),
        "To: <%s>" % (aor if method == "REGISTER" else "sip:bob@ims.example.net"),
        "Call-ID: %s" % call_id,
        "CSeq: 1 %s" % method,
    ]
    lines.extend(extra)
    cl = len(body) if content_length is None else content_length
    lines.append("Content-Length: %s" % cl)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body, call_id


def status_line(msg):
    return msg.split(b"\r\n", 1)[0].decode("latin-1")


def header(msg, name):
    head = msg.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        n, _, v = line.partition(":")
        if n.strip().lower() == name.lower():
            return v.strip()
    return None


# --- WebSocket client ----------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class Closed(Exception):
    """The server sent a close frame (code) or the TCP connection ended (None)."""

    def __init__(self, code):
        super().__init__("closed %s" % code)
        self.code = code


def connect():
    s = socket.create_connection(endpoint("PCSCF_WS"), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def read_http_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def upgrade_request(key, protocol="sip", extra=""):
    host, port = endpoint("PCSCF_WS")
    req = ("GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % (host, port, key))
    if protocol is not None:
        req += "Sec-WebSocket-Protocol: %s\r\n" % protocol
    return (req + extra + "\r\n").encode()


class Ws:
    def __init__(self):
        self.sock = connect()
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(upgrade_request(key))
        head, self.buf = read_http_head(self.sock)
        lines = head.split("\r\n")
        expect(lines[0].startswith("HTTP/1.1 101"), "upgrade refused: %r" % lines[0])
        fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                  for l in lines[1:] if ":" in l}
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        expect(fields.get("sec-websocket-accept") == accept, "bad Sec-WebSocket-Accept")
        expect(fields.get("sec-websocket-protocol") == "sip", "subprotocol sip not echoed")

    @staticmethod
    def frame(opcode, payload, fin=True, mask=True, rsv=0, length=None):
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        m = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, m | 126, n)
        else:
            head = struct.pack("!BBQ", b0, m | 127, n)
        if not mask:
            return head + payload
        key = os.urandom(4)
        return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

    def send(self, opcode, payload, **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def send_text(self, payload):
        self.send(OP_TEXT, payload)

    def _read(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                raise Closed(None)
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        b0, b1 = self._read(2)
        expect(b1 & 0x80 == 0, "the server masked a frame")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x80 != 0, b0 & 0x0F, self._read(n)

    def recv_message(self):
        """The next data message; Closed(code) on a close frame or EOF."""
        parts = []
        while True:
            fin, op, payload = self.recv_frame()
            if op == OP_PING:
                self.send(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code)
            parts.append(payload)
            if fin:
                return b"".join(parts)

    def expect_close(self, code):
        """The server closes with `code` (a close frame), then the TCP connection."""
        try:
            while True:
                msg = self.recv_message()
                expect(False, "a message instead of close %d: %r" % (code, status_line(msg)))
        except Closed as c:
            expect(c.code == code, "closed with %s, expected %d" % (c.code, code))
        # Answer the close, then the server ends the TCP connection.
        try:
            self.send(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        expect_eof(self.sock)

    def response_to(self, call_id):
        """The next SIP message on this connection: a response for `call_id`."""
        msg = self.recv_message()
        expect(header(msg, "Call-ID") == call_id,
               "a message for another Call-ID: %r" % status_line(msg))
        return msg

    def close(self):
        try:
            self.send(OP_CLOSE, struct.pack("!H", 1000))
            self.sock.close()
        except OSError:
            pass


def expect_eof(sock, within=TIMEOUT):
    """The peer closes the TCP connection within `within` seconds (data before is skipped)."""
    deadline = time.monotonic() + within
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return
    raise Failed("the connection is still open after %.1f s" % within)


def expect_status(msg, status, reason=None):
    line = status_line(msg)
    code = line.split(" ", 2)[1] if line.count(" ") >= 1 else ""
    expect(line.startswith("SIP/2.0 ") and code == str(status),
           "expected %d, got %r" % (status, line))
    if reason is not None:
        expect(line == "SIP/2.0 %d %s" % (status, reason),
               "expected %r, got %r" % ("SIP/2.0 %d %s" % (status, reason), line))


def options_gets_403(ws):
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net")
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 403, "Forbidden (not registered)")


# --- W2 cases ------------------------------------------------------------------

def ws_options():
    """A well-formed OPTIONS from an unregistered flow: 403 Forbidden (not registered)."""
    ws = Ws()
    options_gets_403(ws)
    ws.close()


def ws_truncated():
    """No CRLFCRLF: 400 naming it (the start line and Via made it through)."""
    ws = Ws()
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net")
    ws.send_text(msg[:-4])  # the last line unterminated
    expect_status(ws.response_to(call_id), 400, "no empty line after the header fields")
    options_gets_403(ws)  # the connection goes on
    ws.close()


def ws_bad_content_length():
    """Content-Length not a number, over the body, twice: 400 naming it."""
    ws = Ws()
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net", content_length="12x")
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 400, "Content-Length: not a number")
    msg, call_id = sip_request("MESSAGE", "sip:bob@ims.example.net", body=b"hello",
                               content_length=500)
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 400, "Content-Length 500 but 5 octets of body")
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net",
                               extra=("Content-Length: 0",))  # two of them
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 400, "more than one Content-Length")
    ws.close()


def ws_malformed_headers():
    """Parsed but invalid (validate_request): 400 naming the header."""
    ws = Ws()
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net", extra=("CSeq: 2 OPTIONS",))
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 400, "Multiple CSeq headers")
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net")
    ws.send_text(msg.replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE"))
    expect_status(ws.response_to(call_id), 400, "CSeq method does not match the request method")
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net")
    ws.send_text(msg.replace(b"Max-Forwards: 70\r\n", b""))
    expect_status(ws.response_to(call_id), 400, "Missing Max-Forwards header")
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net")
    ws.send_text(msg.replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1))
    expect_status(ws.response_to(call_id), 505, "Version Not Supported")
    ws.close()


def ws_garbage():
    """Header-only garbage: dropped (nothing to answer), the connection goes on."""
    ws = Ws()
    ws.send_text(b"garbage garbage\r\nmore: garbage\r\n\r\n")
    ws.send_text(b"\r\n\r\n")  # an empty message: a keepalive, nothing to answer
    ws.send(OP_BINARY, b"")
    options_gets_403(ws)  # the first answer on this connection is the OPTIONS'
    ws.close()


def ws_random_binary():
    """Random binary messages (fixed seed): each dropped, the connection goes on."""
    rng = random.Random(7118)
    ws = Ws()
    for _ in range(RANDOM_WS_FRAMES):
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
        ws.send(OP_BINARY, payload)
    options_gets_403(ws)
    ws.close()


def ws_too_big():
    """A message over 64 KiB (max_message_bytes 65535): close 1009."""
    ws = Ws()
    msg, _ = sip_request("MESSAGE", "sip:bob@ims.example.net", body=b"x" * 70000)
    try:
        ws.send_text(msg)
    except OSError:
        pass  # the server may close before all of it is sent
    ws.expect_close(1009)


def ws_too_big_fragmented():
    """Over 64 KiB in fragments of 16 KiB each: close 1009 as well."""
    ws = Ws()
    msg, _ = sip_request("MESSAGE", "sip:bob@ims.example.net", body=b"x" * 70000)
    try:
        chunks = [msg[i:i + 16384] for i in range(0, len(msg), 16384)]
        for i, c in enumerate(chunks):
            ws.send(OP_TEXT if i == 0 else OP_CONT, c, fin=i == len(chunks) - 1)
    except OSError:
        pass
    ws.expect_close(1009)


def ws_many_headers():
    """10,000 header lines (50 KB, under the size limit): 513."""
    ws = Ws()
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net", extra=["A:1"] * 10000)
    expect(len(msg) < 65535, "the message is over the size limit")
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 513, "Message Too Large")
    ws.close()


def ws_long_header():
    """One 20,000-octet header field, a folded 10 KB one: 513; a 10 KB
    Request-URI: dropped."""
    ws = Ws()
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net",
                               extra=("Subject: " + "a" * 20000,))
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 513, "Message Too Large")
    # A folded one, over the limit only once its lines are joined.
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net",
                               extra=["Subject: a"] + [" " + "b" * 1000] * 10)
    ws.send_text(msg)
    expect_status(ws.response_to(call_id), 513, "Message Too Large")
    # A Request-URI of 10,000 octets: the start line is too long, and the
    # parser stops before the Via: nobody to answer (dropped as unparsable).
    msg, call_id = sip_request("OPTIONS", "sip:" + "b" * 10000 + "@ims.example.net")
    ws.send_text(msg)
    options_gets_403(ws)  # the first answer on this connection is the OPTIONS'
    ws.close()


def ws_bad_opcode():
    """A reserved opcode (0x3): close 1002 (protocol error)."""
    ws = Ws()
    ws.send(0x3, b"hello")
    ws.expect_close(1002)


def ws_unmasked():
    """A client frame without a mask (RFC 6455 5.1): close 1002."""
    ws = Ws()
    msg, _ = sip_request("OPTIONS", "sip:bob@ims.example.net")
    ws.send(OP_TEXT, msg, mask=False)
    ws.expect_close(1002)


def ws_rsv_bits():
    """RSV1 without a negotiated extension: close 1002."""
    ws = Ws()
    ws.send(OP_TEXT, b"x", rsv=0x4)
    ws.expect_close(1002)


def ws_bad_utf8():
    """A text message that is not UTF-8 (RFC 6455 8.1): close 1007."""
    ws = Ws()
    ws.send(OP_TEXT, b"OPTIONS \xff\xfe SIP/2.0\r\n\r\n")
    ws.expect_close(1007)


def ws_fragmented():
    """A message in four fragments is one SIP message (RFC 6455 5.4): 403."""
    ws = Ws()
    msg, call_id = sip_request("OPTIONS", "sip:bob@ims.example.net")
    q = len(msg) // 4
    ws.send(OP_TEXT, msg[:q], fin=False)
    ws.send(OP_PING, b"in between")  # control frames may come between fragments
    ws.send(OP_CONT, msg[q:2 * q], fin=False)
    ws.send(OP_CONT, msg[2 * q:3 * q], fin=False)
    ws.send(OP_CONT, msg[3 * q:], fin=True)
    expect_status(ws.response_to(call_id), 403, "Forbidden (not registered)")
    ws.close()


def ws_bad_fragments():
    """A continuation with no message to continue: close 1002."""
    ws = Ws()
    ws.send(OP_CONT, b"orphan", fin=True)
    ws.expect_close(1002)
    # A new message inside a fragmented one.
    ws = Ws()
    ws.send(OP_TEXT, b"OPTIONS", fin=False)
    ws.send(OP_TEXT, b"again", fin=True)
    ws.expect_close(1002)
    # A fragmented control frame.
    ws = Ws()
    ws.send(OP_PING, b"x", fin=False)
    ws.expect_close(1002)
    # A control frame over 125 octets.
    ws = Ws()
    ws.send(OP_PING, b"x" * 200)
    ws.expect_close(1002)


def ws_no_sip_subprotocol():
    """An upgrade without the subprotocol sip (RFC 7118 4.1): HTTP 400, closed."""
    for protocol in (None, "chat", "sipx, chat"):
        s = connect()
        s.sendall(upgrade_request(base64.b64encode(os.urandom(16)).decode(), protocol))
        head, _ = read_http_head(s)
        expect(head.startswith("HTTP/1.1 400"), "%r: %r" % (protocol, head.split("\r\n")[0]))
        expect_eof(s)
        s.close()
    # And a plain HTTP request, no upgrade at all.
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _ = read_http_head(s)
    expect(head.startswith("HTTP/1.1 400"), "plain GET: %r" % head.split("\r\n")[0])
    expect_eof(s)


def ws_bad_http():
    """Not HTTP, or an upgrade request over 8 KiB: the connection is closed."""
    s = connect()
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(200) + b"\r\n\r\n")
    expect_eof(s)
    s = connect()
    key = base64.b64encode(os.urandom(16)).decode()
    try:
        s.sendall(upgrade_request(key, extra="X-Pad: %s\r\n" % ("p" * 10000)))
    except OSError:
        pass
    try:
        head, _ = read_http_head(s)
    except (ConnectionResetError, BrokenPipeError):
        head = ""
    expect(not head.startswith("HTTP/1.1 101"), "upgraded with a 10 KB request")
    expect_eof(s)


def ws_stall():
    """Half an HTTP request, then nothing: closed at handshake_timeout (1 s);
    meanwhile other browsers are served."""
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs")
    start = time.monotonic()
    ws_options()
    expect_eof(s, within=5.0)
    took = time.monotonic() - start
    expect(took >= 0.5, "closed after %.2f s: before the handshake timeout" % took)
    # Connected and silent: the same.
    s = connect()
    expect_eof(s, within=5.0)


def ws_closed_mid_frame():
    """A frame header promising 1,000 octets, ten of them, then FIN / RST."""
    ws = Ws()
    ws.sock.sendall(Ws.frame(OP_TEXT, b"0123456789", length=1000)[:16])
    ws.sock.close()
    ws = Ws()
    ws.sock.sendall(Ws.frame(OP_TEXT, b"0123456789", length=1000)[:16])
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.sock.close()  # RST
    # Half of an extended length field.
    ws = Ws()
    ws.sock.sendall(b"\x81\xfe\x01")
    ws.sock.close()
    # Mid-upgrade.
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
    s.close()
    ws_options()  # the server goes on


def ws_register():
    """A REGISTER reaches the IMS stand-in, and its 401 comes back to the browser."""
    ws = Ws()
    contact = "<sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=600"
    msg, call_id = sip_request("REGISTER", "sip:ims.example.net",
                               extra=("Contact: " + contact, "Supported: path, outbound"))
    ws.send_text(msg)
    reply = ws.response_to(call_id)
    expect_status(reply, 401)
    expect(header(reply, "WWW-Authenticate") is not None, "401 without WWW-Authenticate")
    expect(header(reply, "Via").startswith("SIP/2.0/WS df7jal23ls0d.invalid"),
           "our Via was not removed: %r" % header(reply, "Via"))
    ws.close()
    print(call_id)


# --- Mw cases ------------------------------------------------------------------

def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(TIMEOUT)
    return s


def mw_message(method, **kw):
    """A request from the IMS side to our Mw address (no flow token: for us)."""
    host, port = endpoint("PCSCF_MW")
    return sip_request(method, "sip:%s:%d" % (host, port), via_transport="UDP",
                       via_host="127.0.0.1:5999;rport", **kw)


def expect_no_reply(s, within=0.3):
    s.settimeout(within)
    try:
        data = s.recv(70000)
        raise Failed("an answer to nothing: %r" % status_line(data))
    except socket.timeout:
        pass
    finally:
        s.settimeout(TIMEOUT)


def reply_for(s, call_id):
    data, _ = s.recvfrom(70000)
    expect(header(data, "Call-ID") == call_id, "a reply for another Call-ID")
    return data


def mw_options():
    """An OPTIONS to us from the IMS side: 200 OK."""
    s = udp_socket()
    msg, call_id = mw_message("OPTIONS")
    s.sendto(msg, endpoint("PCSCF_MW"))
    expect_status(reply_for(s, call_id), 200, "OK")


def mw_empty():
    s = udp_socket()
    s.sendto(b"", endpoint("PCSCF_MW"))
    s.sendto(b"\r\n\r\n", endpoint("PCSCF_MW"))  # an RFC 5626 keepalive: nothing to answer
    expect_no_reply(s)


def mw_random():
    rng = random.Random(3261)
    s = udp_socket()
    for _ in range(RANDOM_MW_DATAGRAMS):
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 1400)))
        s.sendto(payload, endpoint("PCSCF_MW"))
    expect_no_reply(s)


def mw_truncated_response():
    """A response without the empty line: dropped, never answered."""
    s = udp_socket()
    msg, _ = mw_message("OPTIONS")
    resp = b"SIP/2.0 200 OK\r\n" + msg.split(b"\r\n", 1)[1]
    s.sendto(resp[:-4], endpoint("PCSCF_MW"))
    expect_no_reply(s)


def mw_stray_response():
    """A well-formed response to no transaction of ours: dropped."""
    s = udp_socket()
    msg, _ = mw_message("OPTIONS")
    s.sendto(b"SIP/2.0 200 OK\r\n" + msg.split(b"\r\n", 1)[1], endpoint("PCSCF_MW"))
    s.sendto(b"SIP/2.0 180 Ringing\r\n" + msg.split(b"\r\n", 1)[1], endpoint("PCSCF_MW"))
    expect_no_reply(s)


def mw_malformed_via():
    """A request with a malformed Via: 400 Malformed Via header, to the source."""
    s = udp_socket()
    msg, call_id = mw_message("OPTIONS")
    bad = b"\r\n".join(b"Via: SIP/2.0/UDP ;;;branch=" if l.startswith(b"Via:") else l
                       for l in msg.split(b"\r\n"))
    s.sendto(bad, endpoint("PCSCF_MW"))
    expect_status(reply_for(s, call_id), 400, "Malformed Via header")
    # No Via at all: answered to the source all the same (RFC 3261 16.3 step 1).
    msg, call_id = mw_message("OPTIONS")
    s.sendto(b"\r\n".join(l for l in msg.split(b"\r\n") if not l.startswith(b"Via:")),
             endpoint("PCSCF_MW"))
    expect_status(reply_for(s, call_id), 400, "Missing Via header")


def mw_huge():
    """70 KB does not fit in a UDP datagram (the kernel refuses it); the
    largest that does (65,507 octets) claiming a 70,000-octet body: 513."""
    s = udp_socket()
    try:
        s.sendto(b"x" * 70000, endpoint("PCSCF_MW"))
        raise Failed("a 70,000-octet UDP datagram was sent")
    except OSError:
        pass
    msg, call_id = mw_message("MESSAGE", content_length=70000)
    msg += b"x" * (65507 - len(msg))
    s.sendto(msg, endpoint("PCSCF_MW"))
    expect_status(reply_for(s, call_id), 513, "Message Too Large")
    # The same without Content-Length: a datagram is the whole message (under the limit).
    msg, call_id = mw_message("MESSAGE", content_length=None)
    msg = msg.replace(b"Content-Length: 0\r\n", b"")
    msg += b"y" * (65507 - len(msg))
    s.sendto(msg, endpoint("PCSCF_MW"))
    expect_status(reply_for(s, call_id), 404, "Not Found")  # no flow token: nothing of ours
    # Random noise of the largest size.
    s.sendto(bytes(random.Random(65507).getrandbits(8) for _ in range(65507)),
             endpoint("PCSCF_MW"))
    expect_no_reply(s)


# --- the IMS stand-in and tools ----------------------------------------------------

def ims(portfile, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(1.0)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(portfile + ".tmp", portfile)
    deadline = time.monotonic() + 300  # never outlives a stuck test for long
    with open(log, "a") as out:
        while time.monotonic() < deadline:
            try:
                data, peer = s.recvfrom(70000)
            except socket.timeout:
                continue
            out.write(json.dumps(data.decode("latin-1")) + "\n")
            out.flush()
            if not data.startswith(b"REGISTER "):
                continue
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            keep = [l for l in head[1:]
                    if l.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq")]
            to = [l for l in head[1:] if l.split(":", 1)[0].strip().lower() == "to"]
            reply = (["SIP/2.0 401 Unauthorized"] + keep + [to[0] + ";tag=ims1"] +
                     ['WWW-Authenticate: Digest realm="ims.example.net", nonce="abc", '
                      'algorithm=MD5', "Content-Length: 0"])
            s.sendto(("\r\n".join(reply) + "\r\n\r\n").encode(), peer)


def ims_check(log, call_id):
    """Only the REGISTER of `call_id` reached the IMS (retransmissions allowed),
    with our Path (RFC 5626 ob) and P-Visited-Network-ID."""
    with open(log) as f:
        got = [json.loads(l).encode("latin-1") for l in f if l.strip()]
    expect(got, "nothing reached the IMS")
    for m in got:
        expect(m.startswith(b"REGISTER "), "forwarded to the IMS: %r" % status_line(m))
        expect(header(m, "Call-ID") == call_id, "another REGISTER: %r" % header(m, "Call-ID"))
    path = header(got[0], "Path") or ""
    expect(";ob" in path and ";lr" in path, "Path: %r" % path)
    expect(header(got[0], "P-Visited-Network-ID") is not None, "no P-Visited-Network-ID")


def ws_flood():
    """REGISTER floods over FLOOD_CONNECTIONS WebSockets at once (issue 11). On
    each, the first FLOOD_BURST go to the IMS; then a BYE inside a dialog is
    not refused by admission (403: the flow is not registered), and every
    REGISTER beyond the burst gets 503 with Retry-After naming the
    connection's limit; the FLOOD_CLOSE_AFTER-th refusal closes the
    connection (1000). A REGISTER on another connection, sent while the
    flooders' answers are still coming, gets the IMS's 401."""
    good = Ws()
    flooders = [Ws() for _ in range(FLOOD_CONNECTIONS)]
    before = FLOOD_BURST + 10
    for ws in flooders:
        # 10 more than it takes: a token that comes back meanwhile (1/s)
        # moves the close one request later; the 503s after the close are
        # not sent.
        for i in range(FLOOD_BURST + FLOOD_CLOSE_AFTER + 10):
            if i == before:
                bye, _ = sip_request("BYE", "sip:bob@ims.example.net",
                                     call_id=unique("flood-dialog-"))
                ws.send_text(bye.replace(b"To: <sip:bob@ims.example.net>",
                                         b"To: <sip:bob@ims.example.net>;tag=far"))
            msg, _ = sip_request("REGISTER", "sip:ims.example.net", call_id=unique("flood-"),
                                 extra=("Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>",))
            ws.send_text(msg)
    msg, call_id = sip_request("REGISTER", "sip:ims.example.net",
                               extra=("Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>",))
    good.send_text(msg)
    expect_status(good.response_to(call_id), 401)
    good.close()
    for n, ws in enumerate(flooders):
        refused = forbidden = 0
        try:
            while True:
                reply = ws.recv_message()
                line = status_line(reply)
                if line.startswith("SIP/2.0 503 "):
                    expect_status(reply, 503, "Service Unavailable (connection rate limit)")
                    expect(header(reply, "Retry-After") == str(FLOOD_RETRY_AFTER),
                           "Retry-After: %r" % header(reply, "Retry-After"))
                    expect(header(reply, "CSeq") == "1 REGISTER", "a 503 for %r" % header(reply, "CSeq"))
                    refused += 1
                elif line.startswith("SIP/2.0 403 "):
                    expect_status(reply, 403, "Forbidden (not registered)")
                    expect(header(reply, "CSeq") == "1 BYE", "a 403 for %r" % header(reply, "CSeq"))
                    forbidden += 1
                else:
                    expect_status(reply, 401)  # one of the burst, answered by the IMS
        except Closed as c:
            expect(c.code == 1000, "flooder %d: closed with %s, expected 1000" % (n, c.code))
        expect(refused == FLOOD_CLOSE_AFTER,
               "flooder %d: %d refusals before the close, expected %d" % (n, refused, FLOOD_CLOSE_AFTER))
        expect(forbidden == 1, "flooder %d: the BYE got %d 403s" % (n, forbidden))
        try:
            ws.send(OP_CLOSE, struct.pack("!H", 1000))
        except OSError:
            pass
        expect_eof(ws.sock)


def freeport(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


CASES = {fn.__name__.replace("_", "-"): fn for fn in (
    ws_options, ws_truncated, ws_bad_content_length, ws_malformed_headers, ws_garbage,
    ws_random_binary, ws_too_big, ws_too_big_fragmented, ws_many_headers, ws_long_header,
    ws_bad_opcode, ws_unmasked, ws_rsv_bits, ws_bad_utf8, ws_fragmented, ws_bad_fragments,
    ws_no_sip_subprotocol, ws_bad_http, ws_stall, ws_closed_mid_frame, ws_register, ws_flood,
    mw_options, mw_empty, mw_random, mw_truncated_response, mw_stray_response,
    mw_malformed_via, mw_huge)}


def main(argv):
    if len(argv) >= 2 and argv[1] == "freeport":
        return freeport(argv[2]) or 0
    if len(argv) >= 2 and argv[1] == "ims":
        return ims(argv[2], argv[3]) or 0
    if len(argv) >= 2 and argv[1] == "counts":
        print("RANDOM_WS_FRAMES=%d RANDOM_MW_DATAGRAMS=%d FLOOD_CONNECTIONS=%d FLOOD_BURST=%d "
              "FLOOD_CLOSE_AFTER=%d FLOOD_RETRY_AFTER=%d"
              % (RANDOM_WS_FRAMES, RANDOM_MW_DATAGRAMS, FLOOD_CONNECTIONS, FLOOD_BURST,
                 FLOOD_CLOSE_AFTER, FLOOD_RETRY_AFTER))
        return 0
    try:
        if len(argv) >= 2 and argv[1] == "ims-check":
            ims_check(argv[2], argv[3])
        elif len(argv) == 2 and argv[1] in CASES:
            CASES[argv[1]]()
        else:
            sys.stderr.write(__doc__ + "\ncases: " + " ".join(sorted(CASES)) + "\n")
            return 2
    except (Failed, Closed, OSError) as e:
        sys.stderr.write("%s: %s: %s\n" % (argv[1], type(e).__name__, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
