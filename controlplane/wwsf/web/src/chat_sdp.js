// The SDP of a chat session (RFC 8864 a=dcmap / a=dcsa, RFC 8873 MSRP over
// a data channel), as the WIC reads and writes it. Pure functions on SDP
// text: the browser's own SDP has its m=application line but no a=dcmap (the
// channel is negotiated, {negotiated: true, id}), so the WIC adds the
// attributes that tell the eP-CSCF's IMS-ALG it is an MSRP chat, and reads
// the gateway's MSRP URI from the far end's.

const DATA_CHANNEL = /^m=application ([0-9]+) (?:UDP\/DTLS\/SCTP|TCP\/DTLS\/SCTP) webrtc-datachannel/;

// The m= sections of an SDP: [{start, end}] line indices (end exclusive),
// with the lines themselves.
function sections(sdp) {
  const lines = sdp.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const out = [];
  lines.forEach((l, i) => {
    if (l.startsWith('m=')) {
      if (out.length) out.at(-1).end = i;
      out.push({ start: i, end: lines.length });
    }
  });
  return { lines, sections: out };
}

// `a=dcmap:<stream> label="<label>";subprotocol="MSRP"` and the chat's
// a=dcsa lines (its MSRP URI, what it accepts), appended to the first data
// channel m= line; the SDP unchanged when it has none.
export function addChatAttributes(sdp, { stream, path, label = 'chat', acceptTypes = 'text/plain' }) {
  const { lines, sections: ms } = sections(sdp);
  const m = ms.find((s) => DATA_CHANNEL.test(lines[s.start]));
  if (!m) return sdp;
  const add = [
    `a=dcmap:${stream} label="${label}";subprotocol="MSRP"`,
    `a=dcsa:${stream} path:${path}`,
    `a=dcsa:${stream} accept-types:${acceptTypes}`,
  ];
  lines.splice(m.end, 0, ...add);
  return `${lines.join('\r\n')}\r\n`;
}

// The MSRP chat of an SDP: the first data channel m= line with an a=dcmap
// whose subprotocol is MSRP -> {stream, label, path, acceptTypes,
// maxMessageSize, port}; null when there is none or it was refused (port 0
// without a=bundle-only) or it names no MSRP URI.
export function readChat(sdp) {
  const { lines, sections: ms } = sections(sdp);
  for (const s of ms) {
    const m = DATA_CHANNEL.exec(lines[s.start]);
    if (!m) continue;
    const body = lines.slice(s.start + 1, s.end);
    let chat = null;
    for (const l of body) {
      const d = /^a=dcmap:([0-9]+) (.*)$/.exec(l);
      if (!d || !/(^|;)\s*subprotocol="MSRP"/i.test(d[2])) continue;
      const label = /(?:^|;)\s*label="([^"]*)"/.exec(d[2]);
      chat = { stream: Number(d[1]), label: label ? label[1] : '', port: Number(m[1]) };
      break;
    }
    if (!chat) continue;
    // Port 0 is a refused line, unless bundle-only in a BUNDLE group (RFC
    // 8843 6: offered only inside it, on the transport of its first line).
    const midLine = body.find((x) => x.startsWith('a=mid:'));
    const mid = midLine ? midLine.slice(6).trim() : null;
    const grouped = mid !== null && lines.slice(0, ms[0].start).some((x) =>
      /^a=group:BUNDLE /.test(x) && x.slice(15).trim().split(/\s+/).includes(mid));
    const bundleOnly = grouped && body.some((x) => /^a=bundle-only\s*$/.test(x));
    if ((chat.port === 0 && !bundleOnly) || chat.stream > 65534) return null;
    const dcsa = (name) => {
      const prefix = `a=dcsa:${chat.stream} ${name}:`;
      const l = body.find((x) => x.startsWith(prefix));
      return l ? l.slice(prefix.length).trim() : null;
    };
    chat.path = dcsa('path');
    chat.acceptTypes = dcsa('accept-types');
    const size = body.find((x) => x.startsWith('a=max-message-size:'));
    chat.maxMessageSize = size ? Number(size.slice(19)) : null;
    return chat.path ? chat : null;
  }
  return null;
}

// An offer that is a chat and nothing else: no audio or video to take.
export function isChatOnly(sdp) {
  if (!readChat(sdp)) return false;
  return !/^m=(audio|video) [1-9]/m.test(sdp);
}
