#!/usr/bin/env node
// w2-client.mjs: JsSIP on Node.js as a W2 (SIP over WebSocket, RFC 7118)
// client for Isthmus system tests. One JSON object per line on stdout for
// every event; exit 0 when everything asked for happened, 1 otherwise,
// 3 on --timeout. See README.md beside this file.

import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const JsSIP = require('jssip');
const NodeWebSocket = require('jssip-node-websocket');

// ---------------------------------------------------------------- output

function emit(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

let exiting = false;
function exitNow(code) {
  if (exiting) return;
  exiting = true;
  // stdout/stderr are synchronous for files and pipes on Linux, so nothing
  // written above is lost by exiting here.
  process.exit(code);
}

function usage(msg) {
  if (msg) process.stderr.write(`w2-client: ${msg}\n`);
  process.stderr.write(`usage: node w2-client.mjs --ws-uri ws[s]://HOST:PORT --uri sip:USER@DOMAIN
         [--password PW] [--auth-user NAME] [--insecure] [--preloaded-route]
         [--register] [--expires SECONDS] [--register-header 'NAME: VALUE' ...]
         [--expect-register-failure STATUS]
         [--message-to URI --message-body TEXT [--message-content-type TYPE]
          [--message-header 'NAME: VALUE' ...]
          [--message-expect STATUS]]
         [--wait-messages N] [--unregister-at-end] [--close-after-register]
         [--timeout SECONDS] [--trace]
`);
  emit({ event: 'error', error: msg || 'usage' });
  exitNow(1);
}

// ---------------------------------------------------------------- options

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      'ws-uri': { type: 'string' },
      uri: { type: 'string' },
      password: { type: 'string' },
      'auth-user': { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'preloaded-route': { type: 'boolean', default: false },
      register: { type: 'boolean', default: false },
      'register-header': { type: 'string', multiple: true, default: [] },
      'expect-register-failure': { type: 'string' },
      expires: { type: 'string', default: '600' },
      'message-to': { type: 'string' },
      'message-body': { type: 'string', default: '' },
      'message-content-type': { type: 'string', default: 'text/plain' },
      'message-header': { type: 'string', multiple: true, default: [] },
      'message-expect': { type: 'string' },
      'wait-messages': { type: 'string', default: '0' },
      'unregister-at-end': { type: 'boolean', default: false },
      'close-after-register': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '30' },
      trace: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  usage(e.message);
}
if (args.help) usage();

function intOpt(name, min) {
  const s = args[name];
  if (!/^\d+$/.test(s) || Number(s) < min) usage(`--${name} must be an integer >= ${min}`);
  return Number(s);
}

const wsUri = args['ws-uri'];
const aor = args.uri;
if (!wsUri || !/^wss?:\/\//i.test(wsUri)) usage('--ws-uri ws://... or wss://... is required');
if (!aor || !/^sips?:/i.test(aor)) usage('--uri sip:user@domain is required');
const expires = intOpt('expires', 1);
const waitMessages = intOpt('wait-messages', 0);
const timeoutSec = intOpt('timeout', 1);
const messageExpect = args['message-expect'] !== undefined
  ? (/^[1-6]\d\d$/.test(args['message-expect']) ? Number(args['message-expect'])
    : usage('--message-expect must be a SIP status code'))
  : null;
if (args['close-after-register'] && !args.register) usage('--close-after-register needs --register');
if (args['unregister-at-end'] && !args.register) usage('--unregister-at-end needs --register');
const trace = args.trace;

// One bound over everything: never hang.
const overall = setTimeout(() => {
  emit({ event: 'error', error: 'timeout', timeout: timeoutSec, pending: [...pending] });
  exitNow(3); // the process exit closes the connection

}, timeoutSec * 1000);

// ---------------------------------------------------------------- SIP parsing

// Headers reported in "recv"/"sent" events (canonical name by lower-case full
// or compact name). Each value is an array: one entry per header line.
const REPORTED = {
  via: 'Via', v: 'Via',
  contact: 'Contact', m: 'Contact',
  route: 'Route',
  'record-route': 'Record-Route',
  path: 'Path',
  'service-route': 'Service-Route',
  'p-associated-uri': 'P-Associated-URI',
  'p-asserted-identity': 'P-Asserted-Identity',
  'www-authenticate': 'WWW-Authenticate',
  'proxy-authenticate': 'Proxy-Authenticate',
  authorization: 'Authorization',
  'proxy-authorization': 'Proxy-Authorization',
  expires: 'Expires',
  supported: 'Supported', k: 'Supported',
  require: 'Require',
  'flow-timer': 'Flow-Timer',
};

function summarize(text) {
  const out = {};
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  const rawLines = head.split(/\r?\n/);
  const lines = [];
  for (const l of rawLines) {
    if (/^[ \t]/.test(l) && lines.length > 1) lines[lines.length - 1] += ` ${l.trim()}`;
    else lines.push(l);
  }
  out.start_line = lines[0] || '';
  const m = /^SIP\/2\.0\s+(\d{3})/.exec(out.start_line);
  if (m) out.status = Number(m[1]);
  else out.method = out.start_line.split(' ')[0];
  const headers = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c <= 0) continue;
    const name = l.slice(0, c).trim().toLowerCase();
    const value = l.slice(c + 1).trim();
    if (name === 'call-id' || name === 'i') out.call_id = value;
    else if (name === 'cseq') {
      out.cseq = value;
      if (m) out.method = value.split(/\s+/)[1];
    } else if (name === 'from' || name === 'f') out.from = value;
    else if (name === 'to' || name === 't') out.to = value;
    const canon = REPORTED[name];
    if (canon) (headers[canon] ||= []).push(value);
  }
  out.headers = headers;
  return out;
}

function toText(data) {
  // Text frames arrive as strings, binary frames as ArrayBuffer.
  return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
}

function traceMsg(dir, text) {
  if (!trace) return;
  process.stderr.write(`----- ${dir} ${Buffer.byteLength(text)} bytes -----\n${text}${text.endsWith('\n') ? '' : '\n'}`);
}

// ---------------------------------------------------------------- socket

// The Node WebSocket adapter (npm jssip-node-websocket); subprotocol "sip".
const inner = new NodeWebSocket(wsUri, args.insecure
  ? { requestOptions: { rejectUnauthorized: false }, clientConfig: { tlsOptions: { rejectUnauthorized: false } } }
  : {});

let everConnected = false;
let closeRequested = false; // the client itself closes the WebSocket
let onClosed = null; // resolver while waiting for our own close
let connectError = null; // why the WebSocket connection failed, if it did

// A JsSIP Socket that delegates to the adapter and reports every message and
// connection event. JsSIP's Transport sets onconnect/ondisconnect/ondata on
// each connect(); the setters wrap them.
class ReportingSocket {
  constructor(sock) {
    this._s = sock;
    this._onconnect = () => {};
    this._ondisconnect = () => {};
    this._ondata = () => {};
    sock.onconnect = () => {
      everConnected = true;
      emit({ event: 'connected', ws_uri: wsUri });
      this._onconnect();
    };
    sock.ondisconnect = (wasClean, code, reason) => {
      if (!everConnected) {
        emit({ event: 'connect_failed', code: code ?? null, reason: connectError || reason || '' });
      } else {
        emit({ event: 'disconnected', code: code ?? null, reason: reason || '', by: closeRequested ? 'client' : 'server' });
      }
      if (onClosed) { onClosed(); onClosed = null; }
      if (!closeRequested) {
        // The adapter passes wasClean where JsSIP expects "error": invert.
        this._ondisconnect(!wasClean, code, reason);
        if (!everConnected) fail(`WebSocket connection to ${wsUri} failed`, 1, { detail: connectError });
        else if (pending.size > 0) fail('WebSocket closed by the server', 1);
      }
    };
    sock.ondata = (data) => {
      const text = toText(data);
      traceMsg('recv', text);
      if (text.trim() !== '') emit({ event: 'recv', ...summarize(text) });
      this._ondata(data);
    };
  }
  get via_transport() { return this._s.via_transport; }
  set via_transport(v) { this._s.via_transport = v; }
  get url() { return this._s.url; }
  get sip_uri() { return this._s.sip_uri; }
  set onconnect(f) { this._onconnect = f; }
  get onconnect() { return this._onconnect; }
  set ondisconnect(f) { this._ondisconnect = f; }
  get ondisconnect() { return this._ondisconnect; }
  set ondata(f) { this._ondata = f; }
  get ondata() { return this._ondata; }
  connect() {
    this._s.connect();
    // The adapter drops the reason of a failed connection; keep it.
    const client = this._s._ws && this._s._ws._client;
    if (client && client.prependListener) client.prependListener('connectFailed', (e) => { connectError = e && e.message; });
  }
  disconnect() { closeRequested = true; if (this._s._ws) this._s.disconnect(); }
  send(message) {
    const text = String(message);
    const ok = this._s.send(text);
    if (ok) {
      traceMsg('sent', text);
      if (text.trim() !== '') emit({ event: 'sent', ...summarize(text) });
    }
    return ok;
  }
  isConnected() { return this._s.isConnected(); }
  isConnecting() { return this._s.isConnecting(); }
}

const socket = new ReportingSocket(inner);

// ---------------------------------------------------------------- UA

const pending = new Set();
if (args.register) pending.add('register');
if (args['message-to']) pending.add('message');
if (waitMessages > 0) pending.add('wait-messages');

let ua;
try {
  ua = new JsSIP.UA({
    sockets: [socket],
    uri: aor,
    password: args.password ?? null,
    authorization_user: args['auth-user'] ?? null,
    register: false, // registered explicitly once connected
    register_expires: expires,
    session_timers: false,
    use_preloaded_route: args['preloaded-route'],
    // Reconnection is not wanted: a lost WebSocket ends the run.
    connection_recovery_min_interval: 3600,
    connection_recovery_max_interval: 3600,
  });
} catch (e) {
  usage(`JsSIP configuration: ${e.message} ${e.parameter ?? ''}`.trim());
}

let finishing = false;
let received = 0;
let waitUnregister = null;

function fail(error, code = 1, extra = {}) {
  finish(code, { event: 'error', error, ...extra });
}

function done(goal) {
  pending.delete(goal);
  if (pending.size === 0) finish(0);
}

function whenRegisteredOrConnected() {
  if (args['close-after-register']) {
    pending.clear();
    closeAndExit(0);
    return;
  }
  if (args['message-to']) sendMessage();
  if (pending.size === 0) finish(0);
}

function sendMessage() {
  ua.sendMessage(args['message-to'], args['message-body'], {
    contentType: args['message-content-type'],
    extraHeaders: args['message-header'],
    eventHandlers: {
      succeeded: ({ response }) => {
        const status = response ? response.status_code : null;
        emit({ event: 'message_sent', status });
        if (messageExpect !== null && status !== messageExpect) {
          fail(`MESSAGE got ${status}, expected ${messageExpect}`, 1);
        } else done('message');
      },
      failed: ({ response, cause }) => {
        const status = response ? response.status_code : null;
        emit({ event: 'message_failed', cause, status });
        if (messageExpect !== null && status === messageExpect) done('message');
        else fail(`MESSAGE failed: ${cause}`, 1, { status });
      },
    },
  });
}

ua.on('connected', () => {
  if (finishing) return;
  if (args.register) {
    // E.g. Authorization: Bearer <WWSF token> (RFC 8898, TS 24.371 A.3.2).
    if (args['register-header'].length) ua.registrator().setExtraHeaders(args['register-header']);
    ua.register();
  } else whenRegisteredOrConnected();
});

ua.on('registered', ({ response }) => {
  if (finishing) return;
  emit({
    event: 'registered',
    status: response.status_code,
    service_route: response.getHeaders('Service-Route'),
    p_associated_uri: response.getHeaders('P-Associated-URI'),
    path: response.getHeaders('Path'),
    contact: response.getHeaders('Contact'),
  });
  pending.delete('register');
  whenRegisteredOrConnected();
});

ua.on('registrationFailed', ({ response, cause }) => {
  if (finishing && !waitUnregister) return;
  const status = response ? response.status_code : null;
  emit({ event: 'registration_failed', cause, status, reason: response ? response.reason_phrase : null });
  if (args['expect-register-failure'] && String(status) === args['expect-register-failure']) {
    pending.clear();
    closeAndExit(0);
    return;
  }
  if (!finishing) fail(`registration failed: ${cause}`, 1);
});

ua.on('unregistered', ({ response, cause }) => {
  if (waitUnregister) {
    emit({ event: 'unregistered', status: response ? response.status_code : null, cause: cause ?? null });
    const w = waitUnregister;
    waitUnregister = null;
    w(response && response.status_code >= 200 && response.status_code < 300);
  } else if (!finishing && response) {
    // An un-REGISTER answered while the client did not ask for one.
    emit({ event: 'unregistered', status: response.status_code, cause: cause ?? null });
  }
});

ua.on('newMessage', ({ originator, request }) => {
  if (originator !== 'remote') return;
  received += 1;
  emit({
    event: 'message_received',
    from: request.from.uri.toString(),
    to: request.to.uri.toString(),
    content_type: request.getHeader('Content-Type') ?? null,
    body: request.body ?? '',
    count: received,
  });
  // JsSIP answers 200 itself after this handler returns.
  if (waitMessages > 0 && received >= waitMessages && pending.has('wait-messages')) {
    setImmediate(() => done('wait-messages'));
  }
});

// ---------------------------------------------------------------- ending

function closeAndExit(code) {
  finishing = true;
  const closed = new Promise((resolve) => {
    onClosed = resolve;
    setTimeout(resolve, 2000);
  });
  if (inner._ws && (inner.isConnected() || inner.isConnecting())) {
    closeRequested = true;
    inner.disconnect();
  } else {
    if (onClosed) { onClosed(); onClosed = null; }
  }
  closed.then(() => {
    clearTimeout(overall);
    if (code === 0) emit({ event: 'done' });
    exitNow(code);
  });
}

let finished = false;
async function finish(code, errorEvent) {
  if (finished) return;
  finished = true;
  if (errorEvent) emit(errorEvent);
  if (args['unregister-at-end'] && ua.isRegistered() && inner.isConnected()) {
    finishing = true;
    const ok = await new Promise((resolve) => {
      waitUnregister = resolve;
      ua.unregister();
    });
    if (!ok && code === 0) {
      emit({ event: 'error', error: 'un-REGISTER failed' });
      code = 1;
    }
  }
  closeAndExit(code);
}

ua.start();
