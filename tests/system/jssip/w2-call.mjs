#!/usr/bin/env node
// w2-call.mjs: JsSIP on Node.js as a W2 (SIP over WebSocket, RFC 7118)
// client that makes or takes one call, for Isthmus system tests. Signalling
// only: the browser's RTCPeerConnection is replaced by fake-rtc.mjs, which
// writes Chrome-like WebRTC SDP and sends no media. The socket, the options
// shared with w2-client.mjs and the "sent"/"recv" events work as there
// (README.md beside this file); the rest is described here.
//
// A run is one call: --call URI places it once registered (or connected),
// --answer takes the first incoming one after --answer-delay-ms (a second
// one gets 486). Timed steps follow the confirmation, each counted from the
// end of the one before: --hold-after-ms (re-INVITE, a=sendonly written by
// JsSIP into the offer), --unhold-after-ms, --hangup-after-ms (BYE). Instead
// of being answered, a call may be cancelled (--cancel-after-ms, counted
// from the INVITE) or expected to fail (--expect-failure STATUS).
//
// stdin, one command a line: hold, unhold, hangup (BYE; CANCEL or 480
// before the answer), quit (hang up if needed, then end the run: exit 0 only
// if everything asked for happened), drop-ws (close the TCP connection with
// no BYE and no WebSocket close frame, like a tab that dies, and exit 0). A
// command JsSIP refuses is reported and makes the exit status 1.
//
// Events, one JSON object a line on stdout, besides those of w2-client.mjs:
//   local_media {ice_ufrag, ice_pwd, fingerprint, candidate}   what the fake uses
//   ready                          registered (or connected): calls can start
//   outgoing {target, call_id} / incoming {from, to, call_id} / answering
//   progress {originator, status}  accepted {originator, status}
//   confirmed {originator}         the ACK went out (local) or came (remote)
//   ended {originator, cause, method}   failed {originator, cause, status}
//   hold|unhold {originator}, hold_requested|unhold_requested,
//   hold_succeeded|unhold_succeeded (the 2xx and its SDP answer were taken),
//   reinvite|update {has_sdp} (from the far end), cancel_requested,
//   bye_answered {status}, command {command}, ws_dropped {call},
//   webrtc_error {what, error} (JsSIP's peerconnection:* failure events)
//   local_sdp {kind, start_line, cseq, sdp, ...} every SDP this client sent,
//       as it left (JsSIP's own edits included); retransmissions repeat it
//   remote_sdp {kind, sdp, ...}    every description the fake accepted
// The "..." of local_sdp and remote_sdp is fake-rtc.mjs' summarizeSdp():
// ice_ufrag, ice_pwd, ice_lite, fingerprint ("sha-256 AB:.."), setup,
// candidate_address, candidate_port, connection_address, port, proto,
// direction (of the first audio m-line, else the first), bundle (mids) and
// media [{type, port, proto, formats, codecs, mid, direction,
// connection_address, ice_ufrag, candidate_address, candidate_port,
// rtcp_mux}]; null where the SDP has no such thing.
//
// Exit status: 0 when everything asked for happened; 1 on failure (after an
// "error" event); 3 on --timeout.

import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fakeLocalStream, installFakeRtc, summarizeSdp } from './fake-rtc.mjs';

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
  if (msg) process.stderr.write(`w2-call: ${msg}\n`);
  process.stderr.write(`usage: node w2-call.mjs --ws-uri ws[s]://HOST:PORT --uri sip:USER@DOMAIN
         [--password PW] [--auth-user NAME] [--insecure] [--preloaded-route]
         [--register] [--expires SECONDS] [--unregister-at-end]
         (--call URI [--cancel-after-ms N | --expect-failure STATUS]
          | --answer [--answer-delay-ms N])
         [--hold-after-ms N] [--unhold-after-ms N] [--hangup-after-ms N]
         [--local-ufrag UFRAG] [--local-pwd PWD] [--local-fingerprint HEX:..]
         [--candidate ADDR:PORT] [--video]
         [--timeout SECONDS] [--trace]
stdin: hold | unhold | hangup | drop-ws | quit   (one per line)
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
      expires: { type: 'string', default: '600' },
      'unregister-at-end': { type: 'boolean', default: false },
      call: { type: 'string' },
      answer: { type: 'boolean', default: false },
      'answer-delay-ms': { type: 'string', default: '0' },
      'cancel-after-ms': { type: 'string' },
      'expect-failure': { type: 'string' },
      'hold-after-ms': { type: 'string' },
      'unhold-after-ms': { type: 'string' },
      'hangup-after-ms': { type: 'string' },
      'local-ufrag': { type: 'string' },
      'local-pwd': { type: 'string' },
      'local-fingerprint': { type: 'string' },
      candidate: { type: 'string' },
      video: { type: 'boolean', default: false },
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
  if (s === undefined) return null;
  if (!/^\d+$/.test(s) || Number(s) < min) usage(`--${name} must be an integer >= ${min}`);
  return Number(s);
}

const wsUri = args['ws-uri'];
const aor = args.uri;
if (!wsUri || !/^wss?:\/\//i.test(wsUri)) usage('--ws-uri ws://... or wss://... is required');
if (!aor || !/^sips?:/i.test(aor)) usage('--uri sip:user@domain is required');
const expires = intOpt('expires', 1);
const timeoutSec = intOpt('timeout', 1);
const answerDelay = intOpt('answer-delay-ms', 0);
const cancelAfter = intOpt('cancel-after-ms', 0);
const holdAfter = intOpt('hold-after-ms', 0);
const unholdAfter = intOpt('unhold-after-ms', 0);
const hangupAfter = intOpt('hangup-after-ms', 0);
const expectFailure = args['expect-failure'] !== undefined
  ? (/^[3-6]\d\d$/.test(args['expect-failure']) ? Number(args['expect-failure'])
    : usage('--expect-failure must be a SIP status code from 300 to 699'))
  : null;
if (!args.call === !args.answer) usage('one of --call URI and --answer is required');
if (args.answer && (cancelAfter !== null || expectFailure !== null)) usage('--cancel-after-ms and --expect-failure go with --call');
if (cancelAfter !== null && expectFailure !== null) usage('--cancel-after-ms and --expect-failure exclude each other');
const setupOnly = cancelAfter !== null || expectFailure !== null; // the call is never answered
if (setupOnly && (holdAfter !== null || unholdAfter !== null || hangupAfter !== null)) {
  usage('--hold/--unhold/--hangup-after-ms need a call that is answered');
}
if (unholdAfter !== null && holdAfter === null) usage('--unhold-after-ms needs --hold-after-ms');
if (args['unregister-at-end'] && !args.register) usage('--unregister-at-end needs --register');
let candidate = null;
if (args.candidate !== undefined) {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(args.candidate);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) usage('--candidate must be IPV4ADDR:PORT');
  candidate = { address: m[1], port: Number(m[2]) };
}
if (args['local-ufrag'] !== undefined && !/^[A-Za-z0-9+/]{4,256}$/.test(args['local-ufrag'])) {
  usage('--local-ufrag must be 4 to 256 ice-chars (RFC 8839)');
}
if (args['local-pwd'] !== undefined && !/^[A-Za-z0-9+/]{22,256}$/.test(args['local-pwd'])) {
  usage('--local-pwd must be 22 to 256 ice-chars (RFC 8839)');
}
if (args['local-fingerprint'] !== undefined && !/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31}$/.test(args['local-fingerprint'])) {
  usage('--local-fingerprint must be a SHA-256 fingerprint, 32 hex bytes separated by colons');
}
const trace = args.trace;

// One bound over everything: never hang.
const overall = setTimeout(() => {
  emit({ event: 'error', error: 'timeout', timeout: timeoutSec, pending: [...pending] });
  exitNow(3); // the process exit closes the connection
}, timeoutSec * 1000);

// ---------------------------------------------------------------- fake WebRTC

const local = installFakeRtc({
  ufrag: args['local-ufrag'],
  pwd: args['local-pwd'],
  fingerprint: args['local-fingerprint']?.toUpperCase(),
  candidate,
  // Every description the "browser" accepted from the far end.
  onRemoteDescription: (d) => emit({ event: 'remote_sdp', kind: d.type, sdp: d.sdp, ...summarizeSdp(d.sdp) }),
});
emit({ event: 'local_media', ice_ufrag: local.ufrag, ice_pwd: local.pwd, fingerprint: `sha-256 ${local.fingerprint}`, candidate: local.candidate });

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
  'p-called-party-id': 'P-Called-Party-ID',
  'p-charging-vector': 'P-Charging-Vector',
  'www-authenticate': 'WWW-Authenticate',
  'proxy-authenticate': 'Proxy-Authenticate',
  authorization: 'Authorization',
  'proxy-authorization': 'Proxy-Authorization',
  expires: 'Expires',
  supported: 'Supported', k: 'Supported',
  require: 'Require',
  reason: 'Reason',
  'content-type': 'Content-Type', c: 'Content-Type',
};

// summarize(TEXT): the start line, Call-ID, CSeq, From, To, the reported
// headers and, separately, the body and its Content-Type.
function summarize(text) {
  const out = {};
  const sep = /\r?\n\r?\n/.exec(text);
  const head = sep ? text.slice(0, sep.index) : text;
  const body = sep ? text.slice(sep.index + sep[0].length) : '';
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
  let contentType = null;
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
    else if (name === 'content-type' || name === 'c') contentType = value.split(';')[0].trim().toLowerCase();
    const canon = REPORTED[name];
    if (canon) (headers[canon] ||= []).push(value);
  }
  out.headers = headers;
  out.body_length = Buffer.byteLength(body);
  return { summary: out, body, contentType };
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

// Responses that steps wait for, seen on the wire: (summary) => void.
const responseWatchers = new Set();

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
      if (text.trim() !== '') {
        const { summary } = summarize(text);
        emit({ event: 'recv', ...summary });
        if (summary.status) for (const w of [...responseWatchers]) w(summary);
      }
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
      if (text.trim() !== '') {
        const { summary, body, contentType } = summarize(text);
        emit({ event: 'sent', ...summary });
        // What this client offered or answered, as it left (after JsSIP's
        // own edits: hold directions are written into the string).
        if (contentType === 'application/sdp' && body.trim() !== '') {
          const kind = summary.status || summary.method === 'ACK' ? 'answer' : 'offer';
          emit({ event: 'local_sdp', kind, start_line: summary.start_line, cseq: summary.cseq, sdp: body, ...summarizeSdp(body) });
        }
      }
    }
    return ok;
  }
  isConnected() { return this._s.isConnected(); }
  isConnecting() { return this._s.isConnecting(); }
}

const socket = new ReportingSocket(inner);

// ---------------------------------------------------------------- UA

// What must still happen for exit 0:
//   register  the REGISTER got its 2xx (--register)
//   call      the outgoing call was answered (--call)
//   answer    an incoming call was answered and confirmed by its ACK (--answer)
//   hold      the hold re-INVITE got its 2xx and SDP answer (--hold-after-ms)
//   unhold    the same for the re-INVITE that resumes (--unhold-after-ms)
//   hangup    this client's BYE got a 2xx (--hangup-after-ms)
//   end       the call ended, by either side, with no other goal left open
//   cancel    the CANCEL went out and the INVITE got its 487 (--cancel-after-ms)
//   failure   the INVITE got the final status of --expect-failure
const pending = new Set();
if (args.register) pending.add('register');
if (cancelAfter !== null) pending.add('cancel');
else if (expectFailure !== null) pending.add('failure');
else {
  pending.add(args.call ? 'call' : 'answer');
  if (holdAfter !== null) pending.add('hold');
  if (unholdAfter !== null) pending.add('unhold');
  pending.add(hangupAfter !== null ? 'hangup' : 'end');
}

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
let waitUnregister = null;
let session = null; // the one call of this run
let hangupRequested = false; // this client ended the confirmed call (BYE)
let commandErrors = 0; // refused stdin commands: the run cannot end with 0
let quitting = false; // "quit" came: end once the BYE (if any) is answered
const cancelState = { requested: false, failed: false, got487: false };

function fail(error, code = 1, extra = {}) {
  finish(code, { event: 'error', error, ...extra });
}

function done(goal) {
  pending.delete(goal);
  if (pending.size === 0) finish(0);
  else if (quitting && !pending.has('hangup')) fail('quit before everything asked for happened', 1, { pending: [...pending] });
}

function statusOf(message) {
  return message && message.status_code ? message.status_code : null;
}

// The RTCSession state by name ("confirmed", "1xx_received", ...).
function stateOf(s) {
  if (!s) return null;
  const name = Object.keys(s.C).find((k) => s.C[k] === s.status);
  return name ? name.replace(/^STATUS_/, '').toLowerCase() : String(s.status);
}

function mediaStream() {
  return fakeLocalStream({ video: args.video });
}

function whenReady() {
  emit({ event: 'ready' });
  if (args.call) placeCall();
}

// --- the call

function placeCall() {
  try {
    ua.call(args.call, {
      mediaStream: mediaStream(),
      mediaConstraints: { audio: true, video: args.video },
      pcConfig: { iceServers: [] },
    });
  } catch (e) {
    fail(`call to ${args.call} refused by JsSIP: ${e.message}`);
  }
}

// Timed steps after the call is confirmed, each from the end of the one
// before: hold, unhold, hangup.
function runSteps() {
  const steps = [];
  if (holdAfter !== null) steps.push(['hold', holdAfter]);
  if (unholdAfter !== null) steps.push(['unhold', unholdAfter]);
  if (hangupAfter !== null) steps.push(['hangup', hangupAfter]);
  const next = () => {
    const step = steps.shift();
    if (!step) return;
    setTimeout(() => {
      if (finishing || !session || session.isEnded()) return;
      if (step[0] === 'hangup') hangup();
      else reoffer(step[0], () => next());
    }, step[1]);
  };
  next();
}

// hold or unhold by re-INVITE; WHAT is 'hold' or 'unhold'.
function reoffer(what, then) {
  emit({ event: what === 'hold' ? 'hold_requested' : 'unhold_requested' });
  const ok = session[what]({}, () => {
    emit({ event: `${what}_succeeded` });
    pending.delete(what);
    if (then) then();
  });
  if (!ok) {
    emit({ event: 'error', error: `${what} refused by JsSIP (call ${stateOf(session)}, on hold ${JSON.stringify(session.isOnHold())})` });
    if (pending.has(what)) fail(`${what} refused`);
    else commandErrors += 1;
  }
}

// End the confirmed call with a BYE and wait for its final response.
function hangup() {
  if (!session || !session.isEstablished()) {
    emit({ event: 'error', error: 'hangup: no confirmed call' });
    commandErrors += 1;
    return;
  }
  hangupRequested = true;
  // This client ends the call: that is its end, once the BYE is answered.
  pending.delete('end');
  pending.add('hangup');
  const watcher = (r) => {
    if (r.method !== 'BYE' || r.status < 200) return;
    responseWatchers.delete(watcher);
    emit({ event: 'bye_answered', status: r.status });
    if (r.status >= 300) fail(`BYE answered ${r.status}`);
    else done('hangup');
  };
  responseWatchers.add(watcher);
  session.terminate();
}

function cancelCall() {
  if (!session || !session.isInProgress()) {
    fail(`nothing to cancel after ${cancelAfter} ms: the call is ${session ? stateOf(session) : 'not started'}`);
    return;
  }
  emit({ event: 'cancel_requested' });
  cancelState.requested = true;
  session.terminate(); // CANCEL now, or at the first provisional response
}

function checkCancel() {
  if (cancelState.failed && cancelState.got487) done('cancel');
}

function attach(s) {
  session = s;
  s.on('sending', () => {
    if (cancelAfter !== null) setTimeout(cancelCall, cancelAfter);
  });
  s.on('progress', ({ originator, response }) => {
    emit({ event: 'progress', originator, status: statusOf(response) });
  });
  s.on('accepted', ({ originator, response }) => {
    emit({ event: 'accepted', originator, status: statusOf(response) });
  });
  s.on('confirmed', ({ originator }) => {
    emit({ event: 'confirmed', originator });
    if (setupOnly) {
      fail(cancelAfter !== null ? 'the call was answered before the CANCEL'
        : `the call was answered, expected failure ${expectFailure}`);
      return;
    }
    pending.delete(args.call ? 'call' : 'answer');
    runSteps();
  });
  s.on('ended', ({ originator, message, cause }) => {
    emit({ event: 'ended', originator, cause, method: message && message.method ? message.method : null });
    if (originator === 'local' && hangupRequested) return; // done at the BYE's 2xx
    if (originator === 'local') {
      fail(`the call ended locally unasked: ${cause}`);
      return;
    }
    const open = ['hold', 'unhold', 'hangup'].filter((g) => pending.has(g));
    if (open.length) fail(`the call ended (${originator}: ${cause}) before ${open.join(', ')}`);
    else done('end');
  });
  s.on('failed', ({ originator, message, cause }) => {
    const status = statusOf(message);
    emit({ event: 'failed', originator, cause, status });
    if (expectFailure !== null) {
      if (status === expectFailure) done('failure');
      else fail(`the call failed with ${status} (${cause}), expected ${expectFailure}`);
    } else if (cancelAfter !== null && cancelState.requested && cause === JsSIP.C.causes.CANCELED && originator === 'local') {
      cancelState.failed = true;
      checkCancel();
    } else {
      fail(`the call failed: ${cause}`, 1, { status });
    }
  });
  s.on('hold', ({ originator }) => emit({ event: 'hold', originator }));
  s.on('unhold', ({ originator }) => emit({ event: 'unhold', originator }));
  s.on('reinvite', ({ request }) => emit({ event: 'reinvite', has_sdp: Boolean(request.body) }));
  s.on('update', ({ request }) => emit({ event: 'update', has_sdp: Boolean(request.body) }));
  for (const e of ['peerconnection:createofferfailed', 'peerconnection:createanswerfailed',
    'peerconnection:setlocaldescriptionfailed', 'peerconnection:setremotedescriptionfailed', 'getusermediafailed']) {
    s.on(e, (error) => emit({ event: 'webrtc_error', what: e, error: String(error && error.message ? error.message : error) }));
  }
}

ua.on('newRTCSession', ({ originator, session: s, request }) => {
  if (originator === 'local') {
    attach(s);
    emit({ event: 'outgoing', target: args.call, call_id: request.call_id });
    return;
  }
  emit({ event: 'incoming', from: request.from.uri.toString(), to: request.to.uri.toString(), call_id: request.call_id });
  if (!args.answer || session) {
    // One call per run; JsSIP sends the final response.
    s.terminate({ status_code: 486 });
    return;
  }
  attach(s);
  setTimeout(() => {
    if (finishing || s.isEnded()) return;
    emit({ event: 'answering' });
    try {
      s.answer({ mediaStream: mediaStream(), pcConfig: { iceServers: [] } });
    } catch (e) {
      fail(`answer refused by JsSIP: ${e.message}`);
    }
  }, answerDelay);
});

// The 487 of a cancelled INVITE arrives after JsSIP's 'failed' event.
if (cancelAfter !== null) {
  responseWatchers.add((r) => {
    if (r.method !== 'INVITE') return;
    if (r.status === 487) {
      cancelState.got487 = true;
      checkCancel();
    }
  });
}

ua.on('connected', () => {
  if (finishing) return;
  if (args.register) ua.register();
  else whenReady();
});

ua.on('registered', ({ response }) => {
  if (finishing) return;
  emit({
    event: 'registered',
    status: response.status_code,
    service_route: response.getHeaders('Service-Route'),
    p_associated_uri: response.getHeaders('P-Associated-URI'),
    contact: response.getHeaders('Contact'),
  });
  if (!pending.has('register')) return; // a re-registration
  pending.delete('register');
  whenReady();
});

ua.on('registrationFailed', ({ response, cause }) => {
  if (finishing && !waitUnregister) return;
  emit({ event: 'registration_failed', cause, status: response ? response.status_code : null });
  if (!finishing) fail(`registration failed: ${cause}`, 1);
});

ua.on('unregistered', ({ response, cause }) => {
  if (waitUnregister) {
    emit({ event: 'unregistered', status: response ? response.status_code : null, cause: cause ?? null });
    const w = waitUnregister;
    waitUnregister = null;
    w(response && response.status_code >= 200 && response.status_code < 300);
  }
});

// ---------------------------------------------------------------- stdin

// Commands let a shell test sequence this client with other processes.
const COMMANDS = {
  hold: () => (session ? reoffer('hold') : refuse('hold: no call')),
  unhold: () => (session ? reoffer('unhold') : refuse('unhold: no call')),
  hangup: () => {
    if (session && session.isInProgress()) {
      // Before the answer: CANCEL (outgoing) or 480 (incoming).
      hangupRequested = true;
      session.terminate();
    } else hangup();
  },
  // A browser tab that dies: the TCP connection closes with no BYE and no
  // WebSocket close frame. Nothing can be sent afterwards, so the run ends.
  'drop-ws': () => {
    emit({ event: 'ws_dropped', call: stateOf(session) });
    const conn = inner._ws && inner._ws._connection;
    if (conn && conn.socket) conn.socket.destroy();
    clearTimeout(overall);
    exitNow(commandErrors ? 1 : 0);
  },
  quit: () => {
    quitting = true;
    if (session && session.isEstablished()) {
      hangup();
    } else {
      if (session && !session.isEnded()) {
        hangupRequested = true;
        session.terminate();
      }
      const left = [...pending];
      if (left.length) fail('quit before everything asked for happened', 1, { pending: left });
      else finish(0);
    }
  },
};

function refuse(error) {
  emit({ event: 'error', error });
  commandErrors += 1;
}

const stdinLines = createInterface({ input: process.stdin, terminal: false });
stdinLines.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === '' || finishing) return;
  emit({ event: 'command', command: cmd });
  const f = COMMANDS[cmd];
  if (!f) refuse(`unknown command ${cmd}`);
  else {
    try {
      f();
    } catch (e) {
      refuse(`${cmd}: ${e.message}`);
    }
  }
});
// End of stdin is no command: the run goes on.
stdinLines.on('close', () => {});

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
  if (code === 0 && commandErrors > 0) {
    emit({ event: 'error', error: `${commandErrors} command(s) refused` });
    code = 1;
  }
  // A call still up when the run fails is ended properly, not left to the
  // far end's timers.
  if (session && !session.isEnded() && inner.isConnected()) {
    try { session.terminate(); } catch { /* already ending */ }
  }
  if (args['unregister-at-end'] && ua.isRegistered() && inner.isConnected()) {
    finishing = true;
    const ok = await new Promise((resolve) => {
      waitUnregister = resolve;
      setTimeout(() => { if (waitUnregister) { waitUnregister = null; resolve(false); } }, 5000);
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
