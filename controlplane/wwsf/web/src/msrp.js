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
//   new MsrpSession({localPath, remotePath, send, chunkSize, maxMessage, now})
//     .sendMessage(text | Uint8Array, contentType)   -> Message-ID
//     .receive(string | ArrayBuffer | Uint8Array)
//     .tick()   every few seconds: 408 for transactions unanswered 30 s,
//               incomplete messages idle 30 s dropped
//     .close()  outstanding messages fail, nothing more is taken
//     .onmessage({id, contentType, body, text})      a whole message arrived
//     .onreport({id, status: "delivered" | "failed", code, reason})
//     .onerror(text)                                  a frame was refused

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const CHUNK_SIZE = 16384; //          octets of body per chunk we send
export const MAX_MESSAGE = 1 << 20; //       the largest message we reassemble
export const MAX_INCOMPLETE = 16; //         messages being reassembled at once
export const MAX_STORED = 4 * MAX_MESSAGE; // octets held for them, all together
export const TRANSACTION_TIMEOUT = 30000; // ms without a response (or a chunk) before giving up

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
  constructor({ localPath, remotePath, send, chunkSize = CHUNK_SIZE, maxMessage = MAX_MESSAGE, random,
    now = () => Date.now() }) {
    this.localPath = localPath;
    this.remotePath = remotePath;
    this.sendFrame = send;
    this.chunkSize = Math.max(64, chunkSize);
    this.maxMessage = maxMessage;
    this.random = random || defaultRandom;
    this.now = now;
    this.pending = new Map(); //  our tid -> {id, sent (ms)}
    this.outgoing = new Map(); // Message-ID -> {left: chunks without a 200}
    this.incoming = new Map(); // Message-ID -> {ranges: [[from, to)], parts, stored, total, contentType, seen}
    this.stored = 0; //           octets held for incomplete messages, all of them
    this.closed = false;
    this.onmessage = () => {};
    this.onreport = () => {};
    this.onerror = () => {};
    this.counters = { sent: 0, received: 0, chunksIn: 0, chunksOut: 0, refused: 0, timedOut: 0, expired: 0 };
  }

  // Sends a whole message in chunks of at most chunkSize octets; each chunk
  // asks for a 200 (Failure-Report defaults to yes), so the message is
  // "delivered" once every chunk has one, "failed" at the first other
  // response, after TRANSACTION_TIMEOUT without one (408), or when the
  // session closes. A send that throws (the channel closed or its buffer is
  // full) aborts the message: a '#' chunk if it can, and the error is
  // thrown to the caller.
  sendMessage(content, contentType = 'text/plain;charset=utf-8') {
    if (this.closed) throw new MsrpError('the chat session is closed');
    const body = toBytes(content);
    const id = randomId(16, this.random);
    const count = Math.max(1, Math.ceil(body.length / this.chunkSize));
    this.outgoing.set(id, { left: count });
    for (let i = 0; i < count; i += 1) {
      const first = i * this.chunkSize;
      const part = body.subarray(first, Math.min(body.length, first + this.chunkSize));
      const tid = randomId(12, this.random);
      const headers = {
        'Message-ID': id,
        'Byte-Range': `${first + 1}-${first + part.length}/${body.length}`,
        'Content-Type': contentType,
      };
      try {
        this.sendFrame(frameRequest({ tid, toPath: this.remotePath, fromPath: this.localPath, headers,
          body: part, flag: i + 1 === count ? '$' : '+' }));
      } catch (e) {
        this.fail(id, 0, `not sent: ${e.message}`);
        if (i > 0) {
          try {
            this.sendFrame(frameRequest({ tid: randomId(12, this.random), toPath: this.remotePath,
              fromPath: this.localPath, headers: { ...headers, 'Failure-Report': 'no' },
              body: new Uint8Array(0), flag: '#' }));
          } catch {
            // the channel is gone: nothing more to tell the far end
          }
        }
        throw e;
      }
      this.pending.set(tid, { id, sent: this.now() });
      this.counters.chunksOut += 1;
    }
    this.counters.sent += 1;
    return id;
  }

  // A message failed: reported once, its transactions forgotten.
  fail(id, code, reason) {
    if (!this.outgoing.delete(id)) return;
    for (const [tid, p] of this.pending) if (p.id === id) this.pending.delete(tid);
    this.onreport({ id, status: 'failed', code, reason });
  }

  // Time passes (the page calls it every few seconds): transactions with no
  // response for TRANSACTION_TIMEOUT fail their message (RFC 4975 7.1.1:
  // 408), incomplete incoming messages idle that long are dropped.
  tick() {
    const t = this.now();
    for (const p of [...this.pending.values()]) {
      if (t - p.sent >= TRANSACTION_TIMEOUT && this.outgoing.has(p.id)) {
        this.counters.timedOut += 1;
        this.fail(p.id, 408, 'no response');
      }
    }
    for (const [id, m] of this.incoming) {
      if (t - m.seen >= TRANSACTION_TIMEOUT) this.drop(id, m, 'expired');
    }
  }

  // The chat ended: whatever is outstanding fails, nothing more is taken.
  close(reason = 'the chat session ended') {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.outgoing.keys()]) this.fail(id, 0, reason);
    for (const [id, m] of this.incoming) this.drop(id, m, null);
  }

  drop(id, m, counter) {
    this.incoming.delete(id);
    this.stored -= m.stored;
    if (counter) this.counters[counter] += 1;
  }

  receive(data) {
    if (this.closed) return;
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
    if (!p) return; // a response to nothing we sent (or sent twice, or given up)
    this.pending.delete(frame.tid);
    const m = this.outgoing.get(p.id);
    if (!m) return;
    if (frame.status !== 200) {
      this.fail(p.id, frame.status, frame.reason);
      return;
    }
    m.left -= 1;
    if (m.left === 0) {
      this.outgoing.delete(p.id);
      this.onreport({ id: p.id, status: 'delivered', code: 200 });
    }
  }

  // RFC 4975 7.2: a 200 unless Failure-Report is "no", or "partial" (only
  // errors then).
  reply(frame, status, reason) {
    const fr = frame.headers['failure-report'];
    if (fr === 'no' || (fr === 'partial' && status === 200)) return;
    this.sendFrame(frameResponse(frame, status, reason));
  }

  refuse(frame, status, reason) {
    this.counters.refused += 1;
    this.reply(frame, status, reason);
  }

  onRequest(frame) {
    // An endpoint's To-Path is its own URI alone (RFC 4975 7.3.1).
    const to = frame.headers['to-path'].split(/\s+/);
    if (to.length !== 1 || to[0] !== this.localPath) {
      this.refuse(frame, 481, 'Session does not exist');
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
    const len = frame.body.length;
    if (!id || !range || range.start < 1 || (range.end !== null && range.end !== range.start - 1 + len)
        || (range.total !== null && range.start - 1 + len > range.total)) {
      this.refuse(frame, 400, 'Bad request');
      return;
    }
    let m = this.incoming.get(id);
    if (!m) {
      if (frame.flag === '#') { // the sender gave up a message we hold nothing of
        this.reply(frame, 200, 'OK');
        return;
      }
      if (this.incoming.size >= MAX_INCOMPLETE) {
        this.refuse(frame, 413, 'Too many messages at once');
        return;
      }
      m = { ranges: [], parts: [], stored: 0, total: null, seen: this.now(),
        contentType: frame.headers['content-type'] || 'text/plain' };
      this.incoming.set(id, m);
    }
    m.seen = this.now();
    if (frame.flag === '#') {
      this.drop(id, m, null);
      this.reply(frame, 200, 'OK');
      return;
    }
    const from = range.start - 1;
    const to2 = from + len;
    if (range.total !== null) m.total = range.total;
    if (frame.flag === '$' && m.total === null) m.total = to2;
    // Only octets not held yet are stored: a chunk sent again (its 200 was
    // lost) or re-chunked over what came is answered, not counted twice.
    const fresh = uncovered(m.ranges, from, to2);
    const adding = fresh.reduce((n, [a, b]) => n + (b - a), 0);
    if (to2 > this.maxMessage || (m.total !== null && m.total > this.maxMessage)
        || this.stored + adding > MAX_STORED) {
      this.drop(id, m, null);
      this.refuse(frame, 413, 'Message too large');
      return;
    }
    for (const [a, b] of fresh) m.parts.push([a, frame.body.slice(a - from, b - from)]);
    m.stored += adding;
    this.stored += adding;
    m.ranges = cover(m.ranges, from, to2);
    this.counters.chunksIn += 1;
    this.reply(frame, 200, 'OK');
    if (m.total === null || m.ranges.length !== 1 || m.ranges[0][0] !== 0 || m.ranges[0][1] < m.total) return;
    this.drop(id, m, null);
    const body = new Uint8Array(m.total);
    for (const [at, part] of m.parts) body.set(part.subarray(0, Math.max(0, m.total - at)), at);
    this.counters.received += 1;
    const text = /^text\//i.test(m.contentType) ? decoder.decode(body) : null;
    this.onmessage({ id, contentType: m.contentType, body, text });
  }
}

// The parts of [from, to) that the sorted, merged ranges do not cover.
function uncovered(ranges, from, to) {
  const out = [];
  let at = from;
  for (const [a, b] of ranges) {
    if (b <= at) continue;
    if (a >= to) break;
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
    if (at >= to) break;
  }
  if (at < to) out.push([at, to]);
  return out;
}

// The ranges with [from, to) added, sorted and merged.
function cover(ranges, from, to) {
  const all = [...ranges, [from, to]].sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const [a, b] of all) {
    if (out.length && a <= out.at(-1)[1]) out.at(-1)[1] = Math.max(out.at(-1)[1], b);
    else out.push([a, b]);
  }
  return out;
}
