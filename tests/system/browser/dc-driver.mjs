// A data channel from headless Chromium to isthmus-dataplane (issue 9),
// without signalling: the test hands the gateway's SDP answer over a file.
//
//   node dc-driver.mjs --chromium PATH --dir DIR [--messages N] [--large BYTES]
//
// Writes DIR/offer.sdp (an offer with one data channel "chat", protocol
// "msrp"; with --negotiated N a channel negotiated out of band on stream N,
// protocol "MSRP"), waits up to 20 s for DIR/answer.sdp, applies it, waits for the
// channel to open, sends N small text messages and one of BYTES octets,
// waits for them to leave (bufferedAmount 0), and prints one JSON line:
// (with --audio an Opus track is offered first, bundled with the channel on
// one transport (max-bundle), and the line has "audio":{"sent","received",
// "transports"} from getStats 3 s later)
// {"open":true,"sctp":"connected","sent":N+1,"id":0,...}; exit 0 when the
// channel opened, 1 otherwise.
//
// With --msrp-to URI --msrp-from URI (the gateway's a=path on the channel,
// the browser's own) it chats instead (RFC 8873, RFC 4975): it answers
// every SEND with 200 and reassembles messages by Message-ID and
// Byte-Range; sends one short SEND ("hello IMS") and one of --large octets
// in two chunks; waits up to 20 s for --expect messages from the far end
// and their 200s, and adds {"msrp":{"got":[{"id","bytes","sha"}...],
// "oks":N,"chunks_in":N}} to the line.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    dir: { type: 'string' },
    messages: { type: 'string', default: '5' },
    large: { type: 'string', default: '100000' },
    'msrp-to': { type: 'string' },
    'msrp-from': { type: 'string' },
    expect: { type: 'string', default: '2' },
    negotiated: { type: 'string' },
    audio: { type: 'boolean', default: false },
  },
});

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'],
});
let result = { open: false };
try {
  const page = await (await browser.newContext()).newPage();
  const offer = await page.evaluate(async ({ negotiated, audio }) => {
    // --audio: an Opus track first (mid 0), the channel beside it, one
    // transport for both (max-bundle: BUNDLE with a data channel).
    const pc = new RTCPeerConnection({ bundlePolicy: audio ? 'max-bundle' : 'balanced' });
    window.pc = pc;
    if (audio) {
      const ac = new AudioContext();
      const osc = ac.createOscillator();
      const dst = ac.createMediaStreamDestination();
      osc.connect(dst);
      osc.start();
      window.tone = { ac, osc };
      pc.addTrack(dst.stream.getAudioTracks()[0], dst.stream);
    }
    // --negotiated N: the channel agreed in SDP (a=dcmap), no DCEP.
    window.dc = negotiated === undefined
      ? pc.createDataChannel('chat', { protocol: 'msrp' })
      : pc.createDataChannel('chat', { protocol: 'MSRP', negotiated: true, id: Number(negotiated) });
    window.opened = new Promise((ok) => { window.dc.onopen = () => ok(true); });
    // MSRP over the channel: one data channel message is one whole chunk.
    window.msrp = { got: {}, oks: 0, chunks_in: 0, bad: 0 };
    window.dc.onmessage = (e) => {
      const t = typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data);
      const first = t.indexOf('\r\n');
      const start = t.slice(0, first).split(' ');
      if (start[0] !== 'MSRP' || start.length < 3) { window.msrp.bad++; return; }
      const tid = start[1];
      const endLine = t.lastIndexOf(`\r\n-------${tid}`);
      const blank = t.indexOf('\r\n\r\n');
      const headEnd = blank >= 0 && blank < endLine ? blank : endLine;
      const headers = {};
      for (const line of t.slice(first + 2, headEnd).split('\r\n')) {
        const c = line.indexOf(':');
        if (c > 0) headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
      }
      if (/^[0-9]{3}$/.test(start[2])) { if (start[2] === '200') window.msrp.oks++; return; }
      if (start[2] !== 'SEND') return;
      const ok = `MSRP ${tid} 200 OK\r\nTo-Path: ${headers['from-path'].split(' ')[0]}\r\n` +
        `From-Path: ${headers['to-path'].split(' ')[0]}\r\n-------${tid}$\r\n`;
      window.dc.send(ok);
      if (blank < 0 || blank > endLine) return;  // a bodiless SEND
      window.msrp.chunks_in++;
      const body = t.slice(blank + 4, endLine);
      const m = /^(\d+)-(\d+|\*)\/(\d+|\*)$/.exec(headers['byte-range'] || '1-*/*');
      const id = headers['message-id'];
      const g = window.msrp.got[id] || (window.msrp.got[id] = { parts: {}, total: -1 });
      g.parts[Number(m[1])] = body;
      if (m[3] !== '*') g.total = Number(m[3]);
      else if (t.endsWith('$\r\n')) g.total = Number(m[1]) - 1 + body.length;
    };
    const o = await pc.createOffer();
    await pc.setLocalDescription(o);
    // The host candidate (198.18.0.1) is all the gateway needs (ICE-lite).
    await new Promise((ok) => {
      if (pc.iceGatheringState === 'complete') ok();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && ok();
      setTimeout(ok, 3000);
    });
    return pc.localDescription.sdp;
  }, { negotiated: args.negotiated, audio: args.audio });
  writeFileSync(`${args.dir}/offer.sdp`, offer);
  for (let i = 0; i < 200 && !existsSync(`${args.dir}/answer.sdp`); i++) await sleep(100);
  const answer = readFileSync(`${args.dir}/answer.sdp`, 'utf8');
  if (args['msrp-to']) {
    result = await page.evaluate(
      async ({ answer, large, to, from, expect }) => {
        await window.pc.setRemoteDescription({ type: 'answer', sdp: answer });
        const open = await Promise.race([window.opened, new Promise((ok) => setTimeout(() => ok(false), 15000))]);
        const out = { open, id: window.dc.id, protocol: window.dc.protocol };
        if (!open) return out;
        const send = (tid, msgId, body, first, total, flag) =>
          window.dc.send(`MSRP ${tid} SEND\r\nTo-Path: ${to}\r\nFrom-Path: ${from}\r\n` +
            `Message-ID: ${msgId}\r\nByte-Range: ${first}-${first + body.length - 1}/${total}\r\n` +
            `Content-Type: text/plain\r\n\r\n${body}\r\n-------${tid}${flag}\r\n`);
        send('brtx0001', 'brmsg1', 'hello IMS', 1, 9, '$');
        // The large one in two chunks, as a sender may split it (RFC 4975 5.1).
        const big = Array.from({ length: large }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
        const half = Math.floor(large / 2);
        send('brtx0002', 'brmsg2', big.slice(0, half), 1, large, '+');
        send('brtx0003', 'brmsg2', big.slice(half), half + 1, large, '$');
        const complete = (g) => g.total >= 0 &&
          Object.values(g.parts).reduce((a, p) => a + p.length, 0) === g.total;
        for (let i = 0; i < 200; i++) {
          const done = Object.values(window.msrp.got).filter(complete).length;
          if (done >= expect && window.msrp.oks >= 3) break;
          await new Promise((ok) => setTimeout(ok, 100));
        }
        // The texts go back to Node, which digests them (crypto.subtle needs
        // a secure context, which about:blank is not).
        const got = [];
        for (const [id, g] of Object.entries(window.msrp.got)) {
          if (!complete(g)) { got.push({ id, complete: false }); continue; }
          const text = Object.keys(g.parts).map(Number).sort((a, b) => a - b).map((k) => g.parts[k]).join('');
          got.push({ id, bytes: text.length, text });
        }
        out.msrp = { got, oks: window.msrp.oks, chunks_in: window.msrp.chunks_in, bad: window.msrp.bad };
        out.sent = big;
        out.still_open = window.dc.readyState === 'open';
        return out;
      },
      { answer, large: Number(args.large), to: args['msrp-to'], from: args['msrp-from'], expect: Number(args.expect) },
    );
    const sha = (t) => createHash('sha256').update(t, 'utf8').digest('hex');
    if (result.sent !== undefined) {
      result.sent_sha = sha(result.sent);
      delete result.sent;
    }
    for (const g of result.msrp ? result.msrp.got : []) {
      if (g.text === undefined) continue;
      g.sha = sha(g.text);
      if (g.text.length >= 64) delete g.text;
    }
  } else {
  result = await page.evaluate(
    async ({ answer, n, large, audio }) => {
      await window.pc.setRemoteDescription({ type: 'answer', sdp: answer });
      const open = await Promise.race([window.opened, new Promise((ok) => setTimeout(() => ok(false), 15000))]);
      const out = { open, id: window.dc.id, protocol: window.dc.protocol, sent: 0 };
      if (!open) {
        out.ice = window.pc.iceConnectionState;
        out.dtls = window.pc.sctp ? window.pc.sctp.transport.state : 'none';
        return out;
      }
      for (let i = 0; i < n; i++) {
        window.dc.send(`message ${i}`);
        out.sent++;
      }
      window.dc.send('x'.repeat(large));
      out.sent++;
      for (let i = 0; i < 100 && window.dc.bufferedAmount > 0; i++) await new Promise((ok) => setTimeout(ok, 100));
      out.buffered = window.dc.bufferedAmount;
      out.sctp = window.pc.sctp.state;
      out.max_message_size = window.pc.sctp.maxMessageSize;
      await new Promise((ok) => setTimeout(ok, audio ? 3000 : 500));
      out.still_open = window.dc.readyState === 'open';
      if (audio) {
        // The audio on the same transport: sent, and echoed back to us.
        out.audio = { sent: 0, received: 0, transports: 0 };
        (await window.pc.getStats()).forEach((r) => {
          if (r.type === 'outbound-rtp' && r.kind === 'audio') out.audio.sent += r.packetsSent;
          if (r.type === 'inbound-rtp' && r.kind === 'audio') out.audio.received += r.packetsReceived;
          if (r.type === 'transport') out.audio.transports++;
        });
      }
      return out;
    },
    { answer, n: Number(args.messages), large: Number(args.large), audio: args.audio },
  );
  }
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.open ? 0 : 1);
