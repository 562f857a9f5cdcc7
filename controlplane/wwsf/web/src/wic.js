// The WIC page (index.html): wires the forms and buttons to the Phone
// (phone.js) and the WWSF API (wwsf.js), shows the registration and call
// state, the event log and the media statistics.
//
// For tests and the console, window.wic exposes:
//   wic.state            the Phone's state (registration, call, peer, onHold, dtmfSent, ...)
//   wic.ready            a Promise resolved once /api/config was tried
//   wic.config           what /api/config said (null when not served by a WWSF)
//   wic.account          the web login or guest lease, if any
//   wic.stats()          Promise of the summarized getStats() (stats.js), or null
//   wic.rawStats()       Promise of the RTCStatsReport as an array of plain objects
//   wic.log              every log line so far
//   wic.chat             every chat message event so far (phone.js "message")
//   wic.phone            the Phone itself (register, call, answer, hangup, hold, ...)
// Element ids are stable hooks too: ws-uri, sip-uri, password, token,
// register, unregister, dial-uri, call, answer, reject, hangup, hold,
// resume, dtmf-<tone>, reg-state, call-state, stats-body, log, chat-to,
// chat-text, chat-send, chat-start, chat-audio, chat-log.

import { CALL, Phone, REGISTRATION } from './phone.js';
import { statsRows, summarizeStats } from './stats.js';
import * as wwsf from './wwsf.js';

const $ = (id) => document.getElementById(id);
const phone = new Phone();
const logLines = [];
let statsTimer = null;

function log(text) {
  const line = `${new Date().toISOString().slice(11, 23)} ${text}`;
  logLines.push(line);
  const li = document.createElement('li');
  li.textContent = line;
  const list = $('log');
  list.append(li);
  while (list.childElementCount > 200) list.firstElementChild.remove();
  li.scrollIntoView({ block: 'nearest' });
}

// A bare user name is completed with the registered identity's domain.
function targetUri(text) {
  const t = text.trim();
  if (/^(sips?|tel):/i.test(t)) return t;
  const domain = (phone.state.identity || '').replace(/^sips?:[^@]*@/i, '');
  return domain && !t.includes('@') ? `sip:${t}@${domain}` : `sip:${t}`;
}

// --- rendering

function render(s) {
  const reg = $('reg-state');
  reg.textContent = s.registration + (s.registrationCause && s.registration !== REGISTRATION.REGISTERED
    ? ` (${s.registrationCause})` : '');
  reg.dataset.state = s.registration;
  const call = $('call-state');
  let callText = s.call;
  if (s.call === CALL.CONFIRMED && (s.onHold || s.remoteHold)) {
    callText += s.onHold ? ' (on hold)' : ' (held by the far end)';
  }
  if (s.chat) callText += ` (chat${s.chatChannel ? ` ${s.chatChannel}` : ''})`;
  if ((s.call === CALL.ENDED || s.call === CALL.FAILED) && s.cause) {
    callText += ` (${s.cause}${s.status ? ` ${s.status}` : ''})`;
  }
  call.textContent = callText;
  call.dataset.state = s.call;
  $('call-peer').textContent = s.peer || '-';
  $('dtmf-sent').textContent = s.dtmfSent;

  const registered = s.registration === REGISTRATION.REGISTERED;
  const busy = [CALL.CALLING, CALL.PROGRESS, CALL.RINGING, CALL.ANSWERING, CALL.CONFIRMED].includes(s.call);
  const up = s.call === CALL.CONFIRMED;
  $('register').disabled = [REGISTRATION.CONNECTING, REGISTRATION.REGISTERING].includes(s.registration) || registered;
  $('unregister').disabled = s.registration === REGISTRATION.UNREGISTERED;
  $('call').disabled = !registered || busy;
  $('chat-send').disabled = !registered;
  $('chat-start').disabled = !registered || busy;
  // A chat session takes long texts; a SIP MESSAGE stays short (RFC 3428 5).
  $('chat-text').maxLength = chatOpen() ? 65536 : 1000;
  $('answer').disabled = s.call !== CALL.RINGING;
  $('reject').disabled = s.call !== CALL.RINGING;
  $('hangup').disabled = !busy || s.call === CALL.RINGING;
  // Hold and the keypad are for a call's media; a chat session has none.
  $('hold').disabled = !up || s.onHold || s.chatOnly;
  $('resume').disabled = !up || !s.onHold || s.chatOnly;
  for (const b of $('dtmf-pad').querySelectorAll('button')) b.disabled = !up || s.chatOnly;

  if (busy && !statsTimer) {
    showRows([['-', 'no media yet']]);
    statsTimer = setInterval(showStats, 1000);
  }
  if (!busy && statsTimer) {
    clearInterval(statsTimer);
    statsTimer = null;
    showRows([['-', 'no call']]);
    $('remote-audio').srcObject = null;
    $('remote-video').srcObject = null;
    $('remote-video').hidden = true;
  }
}

function showRows(rows) {
  $('stats-body').replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = k;
    const td = document.createElement('td');
    td.textContent = v;
    tr.append(th, td);
    return tr;
  }));
}

async function summary() {
  const report = await phone.stats();
  return report ? summarizeStats(report) : null;
}

async function showStats() {
  let s;
  try {
    s = await summary();
  } catch (e) {
    log(`getStats: ${e.message}`);
    return;
  }
  // A call that ended while getStats() ran: its rows are stale.
  if (!statsTimer) return;
  const rows = s ? statsRows(s) : [];
  showRows(rows.length ? rows : [['-', 'no media yet']]);
}

// --- the WWSF (when the page comes from one)

const account = { kind: null, identity: null, user: null };

function showAccount(text) {
  $('account-state').textContent = text;
  $('logout').disabled = account.kind === null;
}

function useToken(grant) {
  $('sip-uri').value = grant.identity;
  $('token').value = grant.token;
  $('password').value = '';
  account.identity = grant.identity;
}

async function onLogin(ev) {
  ev.preventDefault();
  try {
    const who = await wwsf.login($('web-user').value, $('web-password').value);
    $('web-password').value = '';
    account.kind = 'user';
    account.user = who.user;
    useToken(await wwsf.token());
    showAccount(`logged in as ${who.user} (${who.identity}): token ready, press Register`);
    log(`web login: ${who.user} -> ${who.identity}`);
  } catch (e) {
    showAccount(e.message);
    log(e.message);
  }
}

async function onGuest() {
  try {
    const grant = await wwsf.guest();
    account.kind = 'guest';
    account.user = null;
    useToken(grant);
    showAccount(`guest identity ${grant.identity} until ${new Date(grant.lease_expires * 1000).toLocaleTimeString()}`);
    log(`guest identity ${grant.identity}`);
  } catch (e) {
    showAccount(e.message);
    log(e.message);
  }
}

async function onLogout() {
  try {
    await wwsf.logout();
  } catch (e) {
    log(e.message);
  }
  account.kind = null;
  account.identity = null;
  showAccount('not logged in');
}

// A registration with a spent token needs a fresh one from a logged-in session.
async function freshToken() {
  if (account.kind === 'user' && !$('token').value) {
    try {
      useToken(await wwsf.token());
    } catch (e) {
      log(`token: ${e.message}`);
    }
  }
}

// --- wiring

function onRegister(ev) {
  ev.preventDefault();
  freshToken().then(() => {
    const token = $('token').value.trim();
    phone.register({
      wsUri: $('ws-uri').value.trim(),
      uri: $('sip-uri').value.trim(),
      password: $('password').value,
      authUser: $('auth-user').value.trim(),
      token,
    });
    // Single-use: the next registration needs another.
    if (token) $('token').value = '';
  });
}

function onCall(ev) {
  ev.preventDefault();
  const text = $('dial-uri').value;
  if (!text.trim()) {
    log('nothing to call: enter a SIP URI');
    $('dial-uri').focus();
    return;
  }
  phone.call(targetUri(text), { video: $('with-video').checked });
}

// --- chat: one line per message; an outgoing one's line shows its fate.

const chatLines = new Map();  // outgoing id -> <li>
const chatLog = [];           // every message event, for window.wic

const chatOpen = () => phone.state.chat && phone.state.chatChannel === 'open';

// To the chat session's peer (To empty or naming it) over MSRP when one is
// open; otherwise as a SIP MESSAGE.
function onChatSend(ev) {
  ev.preventDefault();
  const typed = $('chat-to').value.trim();
  const to = typed || phone.state.peer || '';
  const text = $('chat-text').value;
  if (!to) {
    log('nothing to send to: enter a SIP URI (or be in a call)');
    $('chat-to').focus();
    return;
  }
  const toPeer = !typed || targetUri(typed) === phone.state.peer;
  const inCall = phone.state.call !== CALL.IDLE && phone.state.call !== CALL.ENDED && phone.state.call !== CALL.FAILED;
  if (phone.state.chat && inCall && toPeer && !chatOpen()) {
    log(`the chat session is not open (${phone.state.chatChannel}): not sent`);
    return;
  }
  if (!(chatOpen() && toPeer) && text.length > 1000) {
    log('a SIP MESSAGE takes 1,000 characters at most: start a chat session for longer texts');
    return;
  }
  const sent = chatOpen() && toPeer ? phone.sendChat(text) : phone.sendMessage(targetUri(to), text);
  if (sent) $('chat-text').value = '';
}

// A chat session (MSRP over a data channel) with To, or the dial field's URI.
function onChatStart() {
  const to = $('chat-to').value.trim() || $('dial-uri').value.trim();
  if (!to) {
    log('no one to chat with: enter a SIP URI');
    $('chat-to').focus();
    return;
  }
  phone.chat(targetUri(to), { audio: $('chat-audio').checked });
}

function showMessage(m) {
  chatLog.push(m);
  let li = m.direction === 'outgoing' ? chatLines.get(m.id) : null;
  if (!li && m.text === undefined) return; // the fate of a line no longer shown
  if (!li) {
    li = document.createElement('li');
    li.dataset.direction = m.direction;
    const who = document.createElement('span');
    who.className = 'who';
    const via = m.via === 'msrp' ? ' (chat)' : '';
    who.textContent = m.direction === 'incoming' ? `${m.peer}${via}:` : `to ${m.peer}${via}:`;
    const text = document.createElement('span');
    text.className = 'text';
    // A long message (a chat session takes 64 KiB and more) is shown cut.
    text.textContent = m.text.length > 500 ? `${m.text.slice(0, 500)}... (${m.text.length} characters)` : m.text;
    const status = document.createElement('span');
    status.className = 'status';
    li.append(who, text, ' ', status);
    $('chat-log').append(li);
    while ($('chat-log').childElementCount > 200) $('chat-log').firstElementChild.remove();
    if (m.direction === 'outgoing') chatLines.set(m.id, li);
    li.scrollIntoView({ block: 'nearest' });
  }
  li.dataset.status = m.status;
  if (m.status !== 'sending') chatLines.delete(m.id);
  if (m.direction === 'outgoing') {
    li.querySelector('.status').textContent = m.status === 'failed'
      ? `(not delivered: ${m.code ?? m.cause})` : `(${m.status})`;
  }
  if (m.direction === 'incoming') log(`message from ${m.peer}`);
}

function attachTrack({ track, streams }) {
  const el = track.kind === 'video' ? $('remote-video') : $('remote-audio');
  el.srcObject = streams && streams[0] ? streams[0] : new MediaStream([track]);
  if (track.kind === 'video') el.hidden = false;
  el.play().catch((e) => log(`playback of the remote ${track.kind}: ${e.message}`));
}

async function init() {
  $('wic-loading').hidden = true;
  phone.addEventListener('change', (e) => render(e.detail));
  phone.addEventListener('log', (e) => log(e.detail.text));
  phone.addEventListener('track', (e) => attachTrack(e.detail));
  phone.addEventListener('message', (e) => showMessage(e.detail));
  phone.addEventListener('incoming', (e) => {
    $('answer').focus();
    document.title = `${e.detail.chat ? 'Chat' : 'Call'} from ${e.detail.from} - Isthmus`;
  });
  phone.addEventListener('change', (e) => {
    if (e.detail.call !== CALL.RINGING) document.title = 'Isthmus WebRTC client';
  });

  $('register-form').addEventListener('submit', onRegister);
  $('unregister').addEventListener('click', () => phone.unregister());
  $('dial-form').addEventListener('submit', onCall);
  $('chat-form').addEventListener('submit', onChatSend);
  $('chat-start').addEventListener('click', onChatStart);
  $('answer').addEventListener('click', () => phone.answer({ video: $('with-video').checked }));
  $('reject').addEventListener('click', () => phone.reject());
  $('hangup').addEventListener('click', () => phone.hangup());
  $('hold').addEventListener('click', () => phone.hold());
  $('resume').addEventListener('click', () => phone.resume());
  $('dtmf-pad').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-tone]');
    if (b) phone.sendDtmf(b.dataset.tone);
  });
  $('login-form').addEventListener('submit', onLogin);
  $('guest').addEventListener('click', onGuest);
  $('logout').addEventListener('click', onLogout);
  render(phone.state);

  const config = await wwsf.fetchConfig();
  window.wic.config = config;
  if (config) {
    $('ws-uri').value = config.ws_uri;
    if (config.domain && !$('sip-uri').value) $('sip-uri').placeholder = `sip:alice@${config.domain}`;
    $('account-panel').hidden = false;
    $('guest').hidden = !config.guest;
    log(`WWSF: eP-CSCF at ${config.ws_uri}`);
  } else {
    log('no WWSF configuration (/api/config): fill in the form');
  }
}

let resolveReady;
window.wic = {
  get state() { return { ...phone.state }; },
  ready: new Promise((resolve) => { resolveReady = resolve; }),
  config: null,
  account,
  phone,
  log: logLines,
  chat: chatLog,
  stats: summary,
  async rawStats() {
    const report = await phone.stats();
    return report ? [...report.values()].map((s) => ({ ...s })) : null;
  },
};

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => init().finally(resolveReady));
} else {
  init().finally(resolveReady);
}
