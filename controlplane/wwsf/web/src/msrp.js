// MSRP (RFC 4975) over a WebRTC data channel (RFC 8873): the WIC's side of
// a chat session with an IMS UE (TS 24.371 clause 8). The eP-CSCF's gateway
// terminates the channel and relays MSRP over TCP toward the IMS.
//
// One data channel message carries one MSRP chunk (a request or a response,
// RFC 8873 6.3). No DOM and no data channel here: MsrpSession takes frames
// in (receive) and hands frames out (the `send` callback), so it runs the
// same under Node's test runner as in the page.
//
//   parseFrame(bytes)               one chunk -> {tid, method | status, reason,
//                                   headers (lower-case names), body, flag};
//                                   throws MsrpError when malformed
//   frameRequest({...}) / frameResponse(request, status, reason)
//   new MsrpSession({localPath, remotePath, send, chunkSize, maxMessage})
//     .sendMessage(text | Uint8Array, contentType)   -> Message-ID
//     .receive(string | ArrayBuffer | Uint8Array)
//     .onmessage({id, contentType, body, text})      a whole message arrived
//     .onreport({id, status: "delivered" | "failed", code, reason})
//     .onerror(text)                                  a frame was refused

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const CHUNK_SIZE = 16384; //          octets of body per chunk we send
export const MAX_MESSAGE = 1 << 20; //       the largest message we reassemble
export const MAX_INCOMPLETE = 16; //         messages being reassembled at once

export class MsrpError extends Error {}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomId(length = 16, random = defaultRandom) {
  let s = '';
  for (const b of random(length)) s += ALNUM[b % ALNUM.length];
  return s;
}

function defaultRandom(n) {
  const out = new Uint8Array(n);
  if (globalThis.crypto && globalThis.crypto.getRandomValues) globalThis.crypto.getRandomValues(out);
  else for (let i = 0; i < n; i += 1) out[i] = Math.floor(Math.random() * 256);
  return out;
}

function toBytes(data) {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new MsrpError('not a string or binary data');
}

function indexOf(bytes, pattern, from = 0, to = bytes.length) {
  const p = encoder.encode(pattern);
  outer: for (let i = from; i + p.length <= to; i += 1) {
    for (let j = 0; j < p.length; j += 1) if (bytes[i + j] !== p[j]) continue outer;
    return i;
  }
  return -1;
}

const START = /^MSRP ([A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}) (?:([A-Z]+)|([0-9]{3})(?: (.*))?)$/;

export function parseFrame(data) {
  const bytes = toBytes(data);
  const firstEnd = indexOf(bytes, '\r\n', 0, Math.min(bytes.length, 512));
  if (firstEnd < 0) throw new MsrpError('no start line');
  const start = START.exec(decoder.decode(bytes.subarray(0, firstEnd)));
  if (!start) throw new MsrpError('not an MSRP start line');
  const tid = start[1];
  // The end-line closes the chunk: CRLF "-------" tid flag CRLF.
  const tail = `\r\n-------${tid}`;
  const endStart = bytes.length - tail.length - 3;
  if (endStart < firstEnd || indexOf(bytes, tail, endStart, endStart + tail.length) !== endStart
      || bytes[bytes.length - 2] !== 13 || bytes[bytes.length - 1] !== 10) {
    throw new MsrpError(`no end-line for transaction ${tid}`);
  }
  const flag = String.fromCharCode(bytes[bytes.length - 3]);
  if (!'$+#'.includes(flag)) throw new MsrpError(`bad continuation flag ${flag}`);
  const blank = indexOf(bytes, '\r\n\r\n', firstEnd, endStart + 2);
  const headEnd = blank >= 0 && blank <= endStart ? blank : endStart;
  const headers = {};
  for (const line of decoder.decode(bytes.subarray(firstEnd + 2, headEnd)).split('\r\n')) {
    if (!line) continue;
    const c = line.indexOf(':');
    if (c <= 0) throw new MsrpError(`bad header line ${JSON.stringify(line.slice(0, 40))}`);
    headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  if (!headers['to-path'] || !headers['from-path']) throw new MsrpError('To-Path or From-Path missing');
  const frame = { tid, headers, flag, body: headEnd === blank ? bytes.subarray(blank + 4, endStart) : null };
  if (start[2]) frame.method = start[2];
  else {
    frame.status = Number(start[3]);
    frame.reason = start[4] || '';
  }
  return frame;
}

export function frameRequest({ tid, method = 'SEND', toPath, fromPath, headers = {}, body = null, flag = '$' }) {
  let head = `MSRP ${tid} ${method}\r\nTo-Path: ${toPath}\r\nFrom-Path: ${fromPath}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  const end = `-------${tid}${flag}\r\n`;
  if (body === null) return encoder.encode(head + end);
  const pre = encoder.encode(`${head}\r\n`);
  const post = encoder.encode(`\r\n${end}`);
  const out = new Uint8Array(pre.length + body.length + post.length);
  out.set(pre, 0);
  out.set(body, pre.length);
  out.set(post, pre.length + body.length);
  return out;
}

// A response goes back along the request's path: To-Path is the request's
// From-Path (its first URI: the previous hop), From-Path our URI.
export function frameResponse(request, status, reason) {
  const to = request.headers['from-path'].split(/\s+/)[0];
  const from = request.headers['to-path'].split(/\s+/)[0];
  return encoder.encode(`MSRP ${request.tid} ${status} ${reason}\r\nTo-Path: ${to}\r\nFrom-Path: ${from}\r\n`
    + `-------${request.tid}$\r\n`);
}

// Byte-Range: start-end/total, end and total may be "*".
function byteRange(value) {
  const m = /^(\d+)-(\d+|\*)\/(\d+|\*)$/.exec(value || '1-*/*');
  if (!m) return null;
  return { start: Number(m[1]), end: m[2] === '*' ? null : Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

export class MsrpSession {
  constructor({ localPath, remotePath, send, chunkSize = CHUNK_SIZE, maxMessage = MAX_MESSAGE, random }) {
    this.localPath = localPath;
    this.remotePath = remotePath;
    this.sendFrame = send;
    this.chunkSize = Math.max(64, chunkSize);
    this.maxMessage = maxMessage;
    this.random = random || defaultRandom;
    this.pending = new Map(); //  our tid -> {id, chunk}
    this.outgoing = new Map(); // Message-ID -> {chunks left, failed}
    this.incoming = new Map(); // Message-ID -> {parts: [[start, bytes]], received, total, contentType}
    this.onmessage = () => {};
    this.onreport = () => {};
    this.onerror = () => {};
    this.counters = { sent: 0, received: 0, chunksIn: 0, chunksOut: 0, refused: 0 };
  }

  // Sends a whole message in chunks of at most chunkSize octets; each chunk
  // asks for a 200 (Failure-Report defaults to yes), so the message is
  // "delivered" once every chunk has one.
  sendMessage(content, contentType = 'text/plain;charset=utf-8') {
    const body = toBytes(content);
    const id = randomId(16, this.random);
    const count = Math.max(1, Math.ceil(body.length / this.chunkSize));
    this.outgoing.set(id, { left: count, failed: false });
    for (let i = 0; i < count; i += 1) {
      const first = i * this.chunkSize;
      const part = body.subarray(first, Math.min(body.length, first + this.chunkSize));
      const tid = randomId(12, this.random);
      this.pending.set(tid, { id });
      this.sendFrame(frameRequest({
        tid,
        toPath: this.remotePath,
        fromPath: this.localPath,
        headers: {
          'Message-ID': id,
          'Byte-Range': `${first + 1}-${first + part.length}/${body.length}`,
          'Content-Type': contentType,
        },
        body: part,
        flag: i + 1 === count ? '$' : '+',
      }));
      this.counters.chunksOut += 1;
    }
    this.counters.sent += 1;
    return id;
  }

  receive(data) {
    let frame;
    try {
      frame = parseFrame(data);
    } catch (e) {
      this.counters.refused += 1;
      this.onerror(`MSRP: ${e.message}`);
      return;
    }
    if (frame.status !== undefined) this.onResponse(frame);
    else this.onRequest(frame);
  }

  onResponse(frame) {
    const p = this.pending.get(frame.tid);
    if (!p) return; // a response to nothing we sent (or sent twice)
    this.pending.delete(frame.tid);
    const m = this.outgoing.get(p.id);
    if (!m) return;
    if (frame.status !== 200) {
      this.outgoing.delete(p.id);
      this.onreport({ id: p.id, status: 'failed', code: frame.status, reason: frame.reason });
      return;
    }
    m.left -= 1;
    if (m.left === 0) {
      this.outgoing.delete(p.id);
      this.onreport({ id: p.id, status: 'delivered', code: 200 });
    }
  }

  reply(frame, status, reason) {
    const fr = frame.headers['failure-report'];
    if (fr === 'no' || (fr === 'partial' && status === 200)) return;
    this.sendFrame(frameResponse(frame, status, reason));
  }

  onRequest(frame) {
    const to = frame.headers['to-path'].split(/\s+/)[0];
    if (to !== this.localPath) {
      this.counters.refused += 1;
      this.reply(frame, 481, 'Session does not exist');
      return;
    }
    if (frame.method !== 'SEND') {
      // REPORTs are never answered; anything else is not understood.
      if (frame.method !== 'REPORT') this.reply(frame, 501, 'Not implemented');
      return;
    }
    if (frame.body === null) { // a bodiless SEND (a keep-alive or a binding)
      this.reply(frame, 200, 'OK');
      return;
    }
    const id = frame.headers['message-id'];
    const range = byteRange(frame.headers['byte-range']);
    if (!id || !range || range.start < 1) {
      this.counters.refused += 1;
      this.reply(frame, 400, 'Bad request');
      return;
    }
    let m = this.incoming.get(id);
    if (!m) {
      if (this.incoming.size >= MAX_INCOMPLETE) {
        this.counters.refused += 1;
        this.reply(frame, 413, 'Too many messages at once');
        return;
      }
      m = { parts: [], received: 0, total: null, contentType: frame.headers['content-type'] || 'text/plain' };
      this.incoming.set(id, m);
    }
    const end = range.start - 1 + frame.body.length;
    if (range.total !== null) m.total = range.total;
    if (frame.flag === '$' && m.total === null) m.total = end;
    if (end > this.maxMessage || (m.total !== null && (m.total > this.maxMessage || end > m.total))) {
      this.incoming.delete(id);
      this.counters.refused += 1;
      this.reply(frame, 413, 'Message too large');
      return;
    }
    if (frame.flag === '#') { // the sender gave the message up
      this.incoming.delete(id);
      this.reply(frame, 200, 'OK');
      return;
    }
    // A chunk sent again (its 200 was lost) is answered, not counted twice.
    if (!m.parts.some(([at]) => at === range.start - 1)) {
      m.parts.push([range.start - 1, frame.body.slice()]);
      m.received += frame.body.length;
      this.counters.chunksIn += 1;
    }
    this.reply(frame, 200, 'OK');
    if (m.total === null || m.received < m.total) return;
    this.incoming.delete(id);
    const body = new Uint8Array(m.total);
    for (const [at, part] of m.parts) body.set(part.subarray(0, Math.max(0, m.total - at)), at);
    this.counters.received += 1;
    const text = /^text\//i.test(m.contentType) ? decoder.decode(body) : null;
    this.onmessage({ id, contentType: m.contentType, body, text });
  }
}
