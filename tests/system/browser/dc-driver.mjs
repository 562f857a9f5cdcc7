// A data channel from headless Chromium to isthmus-dataplane (issue 9),
// without signalling: the test hands the gateway's SDP answer over a file.
//
//   node dc-driver.mjs --chromium PATH --dir DIR [--messages N] [--large BYTES]
//
// Writes DIR/offer.sdp (an offer with one data channel "chat", protocol
// "msrp"), waits up to 20 s for DIR/answer.sdp, applies it, waits for the
// channel to open, sends N small text messages and one of BYTES octets,
// waits for them to leave (bufferedAmount 0), and prints one JSON line:
// {"open":true,"sctp":"connected","sent":N+1,"id":0,...}; exit 0 when the
// channel opened, 1 otherwise.
import { chromium } from 'playwright-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    dir: { type: 'string' },
    messages: { type: 'string', default: '5' },
    large: { type: 'string', default: '100000' },
  },
});

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox'],
});
let result = { open: false };
try {
  const page = await (await browser.newContext()).newPage();
  const offer = await page.evaluate(async () => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'balanced' });
    window.pc = pc;
    window.dc = pc.createDataChannel('chat', { protocol: 'msrp' });
    window.opened = new Promise((ok) => { window.dc.onopen = () => ok(true); });
    const o = await pc.createOffer();
    await pc.setLocalDescription(o);
    // The host candidate (198.18.0.1) is all the gateway needs (ICE-lite).
    await new Promise((ok) => {
      if (pc.iceGatheringState === 'complete') ok();
      pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && ok();
      setTimeout(ok, 3000);
    });
    return pc.localDescription.sdp;
  });
  writeFileSync(`${args.dir}/offer.sdp`, offer);
  for (let i = 0; i < 200 && !existsSync(`${args.dir}/answer.sdp`); i++) await sleep(100);
  const answer = readFileSync(`${args.dir}/answer.sdp`, 'utf8');
  result = await page.evaluate(
    async ({ answer, n, large }) => {
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
      await new Promise((ok) => setTimeout(ok, 500));
      out.still_open = window.dc.readyState === 'open';
      return out;
    },
    { answer, n: Number(args.messages), large: Number(args.large) },
  );
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.open ? 0 : 1);
