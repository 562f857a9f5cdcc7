#!/usr/bin/env node
// wic-driver.mjs: a real headless Chromium running the WIC
// (controlplane/wwsf/web), driven with Playwright (playwright-core) through
// the page's own controls, for Isthmus system tests.
//
// It serves the WIC on http://127.0.0.1:PORT (a secure context, so
// getUserMedia works; with the WWSF's Content-Security-Policy, so what the
// WIC needs from the real server is what it gets here; no /api/config: the
// form is filled as a user would), opens it in Chromium with fake media
// devices (a beeping microphone, a test-pattern camera) and runs commands,
// from --commands (separated by ";") and then stdin, one per line:
//
//   register                fill the form (--ws-uri, --uri, --password or
//                           --token; what is not given is left as the page
//                           has it) and press Register
//   login USER PASSWORD     the WWSF's web login (a token fills the form;
//                           the password is the rest of the line)
//   chat TO TEXT            the chat panel: TEXT (the rest of the line) to TO
//                           as a SIP MESSAGE, or over the chat session when
//                           one is open and TO is its peer or "-" (the field
//                           left empty); {"event":"message",...} for each
//                           message sent (sending, sent/failed) or received
//                           (via "msrp" for a chat session's; a text over 64
//                           characters is given as {chars, sha} (SHA-256 of
//                           its UTF-8) and its first 40 characters)
//   chat-start TO [audio]   the chat panel's "Start chat session" (TO in its
//                           field): an INVITE with an MSRP data channel
//                           (and audio beside it with "audio")
//   chat-large N            N characters ('A' + i mod 26) sent on the open
//                           chat session through window.wic.phone.sendChat
//                           (the page's input holds 64 KiB at most)
//   guest | logout          a guest identity from the WWSF's pool; log out
//   unregister              press Unregister
//   call URI [video]        fill the dial field and press Call
//   answer [video]          press Answer (an incoming call rings)
//   reject | hangup | hold | resume
//   dtmf TONES              press the keypad keys, one per tone
//   wait KEY=VALUE [S]      until the WIC's state has KEY equal to VALUE
//                           (up to S seconds, default 20); a failure ends
//                           the run with exit 1
//   wait-media [S]          until the call's transports are all DTLS
//                           connected and packets went both ways, audio and
//                           (if sent) video (up to S seconds, default 20):
//                           {"event":"media_up","ms":...}
//   stats [N] [MS]          N (1) samples of the WIC's getStats() summary,
//                           MS (1000) apart
//   raw-stats               the whole RTCStatsReport once
//   text ID                 the text of the element with that id (an
//                           input's value)
//   screenshot FILE         a PNG of the page
//   reload                  reload the page (its WebSocket closes without a
//                           de-registration): {"event":"reloaded",...}
//   sleep MS
//   quit                    close the browser, exit 0 (1 if a command failed)
//
// Output: one JSON object per line on stdout:
//   {"event":"ready","url":...,"chromium":...}   page loaded, WIC initialized
//   {"event":"state",...}       every change of window.wic.state
//   {"event":"log","text":...}  every line of the WIC's event log
//   {"event":"stats",...}       a summary from stats.js (audio.out/in/source,
//                               transport, pair, pairs)
//   {"event":"raw_stats","report":[...]}   {"event":"text","id":...,"text":...}
//   {"event":"command","command":...}  {"event":"waited","key":...,"value":...}
//   {"event":"console","type":...,"text":...}  the page's warnings and errors
//   {"event":"error","error":...}   {"event":"done"}
// Exit status: 0 when every command succeeded; 1 otherwise; 3 on --timeout.
//
// With --url the page is opened from there instead (e.g. isthmus-wwsf,
// --ignore-https-errors for its test certificate).
//
// Usage: node wic-driver.mjs --ws-uri ws://H:P --uri sip:alice@D
//          [--password PW | --token T] [--web DIR] [--bundle FILE]
//          [--url URL [--ignore-https-errors]]
//          [--chromium PATH] [--commands "register; wait registration=registered"]
//          [--timeout S] [--trace-console]

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

let exiting = false;
function exitNow(code) {
  if (exiting) return;
  exiting = true;
  process.exit(code);
}

const { values: args } = parseArgs({
  options: {
    'ws-uri': { type: 'string' },
    uri: { type: 'string' },
    password: { type: 'string', default: '' },
    token: { type: 'string', default: '' },
    web: { type: 'string', default: resolve(here, '../../../controlplane/wwsf/web') },
    url: { type: 'string' },
    'ignore-https-errors': { type: 'boolean', default: false },
    bundle: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    commands: { type: 'string', default: '' },
    timeout: { type: 'string', default: '120' },
    'trace-console': { type: 'boolean', default: false },
  },
  strict: true,
});
if (!args.url && !args['ws-uri']) {
  process.stderr.write('usage: node wic-driver.mjs (--ws-uri ws://HOST:PORT | --url URL) [--uri sip:USER@DOMAIN] [options]\n');
  exitNow(1);
}
const webDir = resolve(args.web);
const bundle = resolve(args.bundle ?? join(webDir, 'dist', 'wic.js'));

const overall = setTimeout(() => {
  emit({ event: 'error', error: `timeout after ${args.timeout} s` });
  shutdown(3);
}, Number(args.timeout) * 1000);

// ---------------------------------------------------------------- the page's origin

// What isthmus-wwsf sends with every file (controlplane/wwsf/core.cpp).
const wsOrigin = args['ws-uri'] ? new URL(args['ws-uri']).origin.replace(/^http/, 'ws') : '';
const CSP = `default-src 'self'; connect-src 'self' ${wsOrigin}; img-src 'self' data:; `
  + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.json': 'application/json' };

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let file = null;
  if (path === '/dist/wic.js') file = bundle;
  else if (path === '/dist/wic.js.map') file = `${bundle}.map`;
  else if (path === '/' || path === '/index.html') file = join(webDir, 'index.html');
  else if (!path.includes('..') && /^\/[\w.-]+\.(css|js|html)$/.test(path)) file = join(webDir, normalize(path));
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' };
  if (file) {
    try {
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
      return;
    } catch {
      // 404 below
    }
  }
  res.writeHead(404, { ...headers, 'Content-Type': 'application/json' });
  res.end('{"error":"not found"}');
});

// ---------------------------------------------------------------- the browser

let browser = null;
let page = null;
let state = {};
let failures = 0;
const waiters = new Set();

async function start() {
  let url = args.url;
  if (!url) {
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${server.address().port}/`;
  }
  browser = await chromium.launch({
    executablePath: args.chromium,
    headless: true,
    args: [
      '--use-fake-device-for-media-stream', // a beeping microphone, a test pattern camera
      '--use-fake-ui-for-media-stream', //     getUserMedia allowed without asking
      '--autoplay-policy=no-user-gesture-required', // the remote audio plays (and is decoded)
      '--no-sandbox', //                       root in a network namespace
    ],
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: args['ignore-https-errors'] });
  page = await context.newPage();
  page.on('console', (m) => {
    if (args['trace-console'] || m.type() === 'error' || m.type() === 'warning') {
      emit({ event: 'console', type: m.type(), text: m.text() });
    }
  });
  page.on('pageerror', (e) => {
    emit({ event: 'error', error: `page: ${e.message}` });
    failures += 1;
  });
  await page.exposeFunction('wicDriverReport', (kind, data) => {
    if (kind === 'state') {
      state = data;
      emit({ event: 'state', ...data });
      for (const w of waiters) w();
    } else if (kind === 'log') {
      emit({ event: 'log', text: data });
    } else if (kind === 'message') {
      const m = { ...data };
      if (typeof m.text === 'string' && m.text.length > 64) {
        m.chars = m.text.length;
        m.sha = createHash('sha256').update(m.text, 'utf8').digest('hex');
        m.text = `${m.text.slice(0, 40)}...`;
      }
      emit({ event: 'message', ...m });
    }
  });
  // A page whose scripts did not all load never initializes the WIC: seen
  // in CI once, a resource failing with net::ERR_NETWORK_CHANGED (Chromium
  // saw the namespace's interfaces settle while it loaded). A user would
  // reload; so does the driver, twice at most, and says so.
  for (let attempt = 1; ; attempt += 1) {
    await page.goto(url);
    try {
      await hook(attempt < 3 ? 15000 : 30000);
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      emit({ event: 'retry', attempt, error: e.message.split('\n')[0] });
    }
  }
  emit({ event: 'ready', url, chromium: browser.version(), config: await page.evaluate(() => window.wic.config) });
}

// Once the WIC has initialized: its state changes and log lines reach us.
async function hook(timeout = 30000) {
  await page.waitForFunction(() => window.wic && window.wic.ready, undefined, { timeout });
  await page.evaluate(async () => {
    await window.wic.ready;
    const { phone } = window.wic;
    phone.addEventListener('change', (e) => window.wicDriverReport('state', e.detail));
    phone.addEventListener('log', (e) => window.wicDriverReport('log', e.detail.text));
    phone.addEventListener('message', (e) => window.wicDriverReport('message', e.detail));
    window.wicDriverReport('state', window.wic.state);
  });
}

// ---------------------------------------------------------------- commands

function waitState(key, value, seconds) {
  const matches = () => String(state[key]) === value;
  if (matches()) return Promise.resolve(true);
  return new Promise((ok) => {
    const w = () => {
      if (!matches()) return;
      clearTimeout(timer);
      waiters.delete(w);
      ok(true);
    };
    const timer = setTimeout(() => {
      waiters.delete(w);
      ok(false);
    }, seconds * 1000);
    waiters.add(w);
  });
}

async function click(id) {
  const el = page.locator(`#${id}`);
  await el.click({ timeout: 5000 });
}

const DTMF_IDS = { '*': 'star', '#': 'pound' };

const COMMANDS = {
  async register() {
    if (args['ws-uri']) await page.fill('#ws-uri', args['ws-uri']);
    if (args.uri) await page.fill('#sip-uri', args.uri);
    if (args.password) await page.fill('#password', args.password);
    if (args.token) await page.fill('#token', args.token);
    await click('register');
  },
  unregister: () => click('unregister'),
  // The WWSF's account panel (only when the page comes from isthmus-wwsf).
  async login(user, ...password) {
    if (!user || !password.length) throw new Error('login USER PASSWORD');
    await page.fill('#web-user', user);
    await page.fill('#web-password', password.join(' '));
    await click('login');
  },
  // The chat panel: a text message (the rest of the line) to TO.
  async chat(to, ...words) {
    if (!to || !words.length) throw new Error('chat TO TEXT');
    await page.fill('#chat-to', to === '-' ? '' : to);
    await page.fill('#chat-text', words.join(' '));
    await click('chat-send');
  },
  async 'chat-start'(to, audio) {
    if (!to) throw new Error('chat-start TO [audio]');
    await page.fill('#chat-to', to);
    await page.setChecked('#chat-audio', audio === 'audio');
    await click('chat-start');
  },
  async 'chat-large'(n) {
    const count = Number(n);
    if (!(count > 0)) throw new Error('chat-large N');
    const r = await page.evaluate((k) => {
      let t = '';
      for (let i = 0; i < k; i += 1) t += String.fromCharCode(65 + (i % 26));
      return { id: window.wic.phone.sendChat(t), error: window.wic.state.lastError };
    }, count);
    if (!r.id) throw new Error(`sendChat refused: ${r.error}`);
  },
  guest: () => click('guest'),
  logout: () => click('logout'),
  async call(uri, video) {
    if (!uri) throw new Error('call URI');
    await page.fill('#dial-uri', uri);
    await page.setChecked('#with-video', video === 'video');
    await click('call');
  },
  async answer(video) {
    await page.setChecked('#with-video', video === 'video');
    await click('answer');
  },
  reject: () => click('reject'),
  hangup: () => click('hangup'),
  hold: () => click('hold'),
  resume: () => click('resume'),
  async dtmf(tones) {
    if (!tones) throw new Error('dtmf TONES');
    for (const t of tones) {
      await click(`dtmf-${DTMF_IDS[t] ?? t}`);
      // One tone at a time, as a person presses them (160 ms + 80 ms gap).
      await new Promise((ok) => setTimeout(ok, 300));
    }
  },
  async wait(cond, seconds) {
    const m = /^(\w+)=(.*)$/.exec(cond ?? '');
    if (!m) throw new Error('wait KEY=VALUE [SECONDS]');
    const ok = await waitState(m[1], m[2], Number(seconds ?? 20));
    if (!ok) throw new Error(`${m[1]} is ${JSON.stringify(state[m[1]])}, not ${m[2]}, after ${seconds ?? 20} s`);
    emit({ event: 'waited', key: m[1], value: m[2] });
  },
  // Until the call's media is up: DTLS connected, packets sent and received.
  async 'wait-media'(seconds) {
    const limit = Number(seconds ?? 20) * 1000;
    const t0 = Date.now();
    for (;;) {
      const s = await page.evaluate(() => window.wic.stats());
      // Every kind the call sends (audio; video too in a video call) flows
      // both ways, over transports that are all connected.
      const flowing = (m) => !m || !m.out || (m.out.packetsSent > 0 && m.in && m.in.packetsReceived > 0);
      if (s && s.audio && s.audio.out && s.transports.length > 0
          && s.transports.every((t) => t.dtlsState === 'connected')
          && flowing(s.audio) && flowing(s.video)) {
        emit({ event: 'media_up', ms: Date.now() - t0 });
        return;
      }
      if (Date.now() - t0 > limit) {
        throw new Error(`no media after ${limit / 1000} s: ${JSON.stringify(s && { transport: s.transport, pairs: s.pairs })}`);
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  },
  async stats(n, ms) {
    const count = Number(n ?? 1);
    for (let i = 0; i < count; i += 1) {
      if (i > 0) await new Promise((ok) => setTimeout(ok, Number(ms ?? 1000)));
      const s = await page.evaluate(() => window.wic.stats());
      emit({ event: 'stats', sample: i, call: state.call, onHold: state.onHold, ...(s ?? {}) });
    }
  },
  async 'raw-stats'() {
    emit({ event: 'raw_stats', report: await page.evaluate(() => window.wic.rawStats()) });
  },
  async text(id) {
    if (!id) throw new Error('text ID');
    const el = page.locator(`#${id}`);
    const input = await el.evaluate((e) => e instanceof HTMLInputElement, null, { timeout: 5000 });
    emit({ event: 'text', id, text: input ? await el.inputValue() : ((await el.textContent()) ?? '') });
  },
  async screenshot(file) {
    if (!file) throw new Error('screenshot FILE');
    await page.screenshot({ path: file, fullPage: true });
  },
  // The page reloaded, as a person pressing F5: its WebSocket closes
  // without a de-registration; the session cookie stays.
  async reload() {
    await page.reload();
    await hook();
    emit({ event: 'reloaded', config: await page.evaluate(() => window.wic.config) });
  },
  sleep: (ms) => new Promise((ok) => setTimeout(ok, Number(ms ?? 0))),
  quit: () => shutdown(failures ? 1 : 0),
};

let queue = Promise.resolve();
function enqueue(line) {
  const words = line.trim().split(/\s+/);
  if (!words[0]) return;
  queue = queue.then(async () => {
    if (exiting) return;
    emit({ event: 'command', command: line.trim() });
    const f = COMMANDS[words[0]];
    try {
      if (!f) throw new Error(`unknown command ${words[0]}`);
      await f(...words.slice(1));
    } catch (e) {
      failures += 1;
      emit({ event: 'error', error: `${line.trim()}: ${e.message.split('\n')[0]}` });
      // A wait that failed leaves the rest of a script meaningless.
      if (words[0] === 'wait') await shutdown(1);
    }
  });
}

let shuttingDown = false;
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  clearTimeout(overall);
  try {
    if (browser) await Promise.race([browser.close(), new Promise((ok) => setTimeout(ok, 5000))]);
  } catch {
    // going anyway
  }
  if (server.listening) server.close();
  if (code === 0) emit({ event: 'done' });
  exitNow(code);
}

try {
  await start();
} catch (e) {
  emit({ event: 'error', error: `start: ${e.message.split('\n')[0]}` });
  await shutdown(1);
}
for (const c of args.commands.split(';')) enqueue(c);
const stdin = createInterface({ input: process.stdin, terminal: false });
stdin.on('line', enqueue);
stdin.on('close', () => {});
