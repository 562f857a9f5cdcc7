// The WIC's SIP side: one JsSIP user agent over the eP-CSCF's WebSocket
// (RFC 7118, W2) and at most one call at a time, with the browser's
// RTCPeerConnection for media (W3). No DOM here: the page (wic.js) listens
// to the events and reads `state`.
//
// Registration (TS 24.371 Annex A.3):
//   A.3.1  a password: the eP-CSCF relays the IMS's digest challenge, JsSIP
//          answers it;
//   A.3.2  a WWSF token: the first REGISTER carries
//          `Authorization: Bearer <token>` (RFC 8898); the token is single-use,
//          so it is dropped once registered (refreshes and the
//          de-registration on the same WebSocket need none);
//   A.3.3  the same with a guest identity and token leased from the WWSF.
//
// Media: audio (and video if asked) from getUserMedia, the eP-CSCF's
// gateway answers ICE-lite with a=setup:passive and takes part in BUNDLE
// (audio and video on one transport, and a chat's data channel the WIC
// offers beside them). The connection uses bundlePolicy "balanced": an IMS
// offer the gateway could not bundle (two m-lines with one payload type) and
// a chat the IMS offers get transports of their own, which "max-bundle"
// would refuse. rtcp-mux always. DTMF goes in the RTP stream (RFC 4733 telephone-event, through
// RTCDTMFSender), not in SIP INFO.
//
// Events (EventTarget, CustomEvent with `detail`): "change" (state changed),
// "log" ({text}), "track" ({track, streams}), "incoming" ({from}),
// "message" (a text message sent or received: sendMessage()).
//
// Messages: text as SIP MESSAGE (RFC 3428, text/plain) through the eP-CSCF
// to the IMS, which IMS UEs take as pager-mode messaging; and chat sessions
// (TS 24.371 clause 8): an INVITE whose SDP has a data channel carrying
// MSRP (RFC 8873), negotiated in SDP (RFC 8864 a=dcmap / a=dcsa, no DCEP),
// which the eP-CSCF turns into an IMS `m=message TCP/MSRP` session. A chat
// session is a call (one at a time, ended by hangup()) with `state.chat`
// set; chat() starts one, answer() takes one the IMS offers, sendChat()
// sends on it (msrp.js chunks and reassembles), and every message sent or
// received is a "message" event with `via: "msrp"`.

import JsSIP from 'jssip';
import { addChatAttributes, isChatOnly, readChat } from './chat_sdp.js';
import { MsrpSession, randomId } from './msrp.js';

export const REGISTRATION = Object.freeze({
  UNREGISTERED: 'unregistered',
  CONNECTING: 'connecting',
  REGISTERING: 'registering',
  REGISTERED: 'registered',
  FAILED: 'failed',
});

export const CALL = Object.freeze({
  IDLE: 'idle',
  CALLING: 'calling', //      INVITE sent, nothing back yet
  PROGRESS: 'progress', //    a provisional response (ringing at the far end)
  RINGING: 'ringing', //      an incoming call waits for the user
  ANSWERING: 'answering', //  the user answered; media setup and 200
  CONFIRMED: 'confirmed', //  ACK sent or received: the call is up
  ENDED: 'ended', //          BYE either way
  FAILED: 'failed', //        never confirmed (busy, cancelled, rejected, error)
});

// The data channel stream of a chat the WIC offers (RFC 8864 a=dcmap); an
// offered chat's stream is the offer's. Chunks of at most 16 KiB, and never
// more than the far end's a=max-message-size allows.
const CHAT_STREAM = 0;
const CHAT_CHUNK = 16384;
const CHAT_HEADROOM = 512; //    octets of MSRP headers a chunk may need
const CHAT_TICK_MS = 5000; //    MSRP timers (msrp.js tick)
const CHAT_GRACE_MS = 5000; //   a chat-only call whose channel closed is hung up after this

const PC_CONFIG = {
  iceServers: [],
  bundlePolicy: 'balanced',
  rtcpMuxPolicy: 'require',
};

export class Phone extends EventTarget {
  constructor() {
    super();
    this.ua = null;
    this.session = null;
    this.pc = null;
    this.state = {
      registration: REGISTRATION.UNREGISTERED,
      registrationCause: null,
      identity: null,
      call: CALL.IDLE,
      direction: null, //     "outgoing" | "incoming"
      peer: null,
      onHold: false, //       we put the call on hold
      remoteHold: false, //   the far end did
      cause: null, //         why the last call ended or failed
      status: null, //        the SIP status of a failure, if any
      video: false,
      dtmfSent: '', //        tones handed to RTCDTMFSender
      dtmfPlayed: '', //      tones RTCDTMFSender reported as played (tonechange)
      calls: 0,
      chat: false, //         the call has a chat (MSRP over a data channel)
      chatOnly: false, //     ... and nothing else (hold and DTMF are off)
      chatChannel: null, //   its channel: "connecting" | "open" | "closed"
      lastError: null,
    };
    this.chatSetup = null; // {stream, path (ours), remote (the gateway's), maxMessageSize, channel, msrp}
  }

  log(text) {
    this.dispatchEvent(new CustomEvent('log', { detail: { text } }));
  }

  set(patch) {
    Object.assign(this.state, patch);
    this.dispatchEvent(new CustomEvent('change', { detail: { ...this.state } }));
  }

  error(text) {
    this.set({ lastError: text });
    this.log(`error: ${text}`);
  }

  // An action that cannot be done now: say why, return false.
  refuse(text) {
    this.error(text);
    return false;
  }

  // --- registration

  // options: {wsUri, uri, password, authUser, token, displayName, expires}
  register(options) {
    if (this.ua) this.stop();
    const { wsUri, uri, password, authUser, token } = options;
    let ua;
    try {
      const socket = new JsSIP.WebSocketInterface(wsUri);
      ua = new JsSIP.UA({
        sockets: [socket],
        uri,
        password: password || null,
        authorization_user: authUser || null,
        display_name: options.displayName || null,
        register: false, // explicitly once connected, with the token if any
        register_expires: options.expires || 600,
        session_timers: false,
        user_agent: `Isthmus WIC (JsSIP ${JsSIP.version})`,
      });
    } catch (e) {
      this.set({ registration: REGISTRATION.FAILED, registrationCause: e.message });
      this.error(`configuration: ${e.message}${e.parameter ? ` (${e.parameter})` : ''}`);
      return false;
    }
    this.ua = ua;
    if (token) ua.registrator().setExtraHeaders([`Authorization: Bearer ${token}`]);
    this.set({ registration: REGISTRATION.CONNECTING, registrationCause: null, identity: uri, lastError: null });

    ua.on('connected', () => {
      if (this.ua !== ua) return;
      this.log(`WebSocket connected to ${wsUri}`);
      // The first connection, or JsSIP's reconnection after the WebSocket
      // was lost: a registration belongs to its connection (RFC 5626 flow),
      // so it is made again, unless a spent token was all it had.
      const lost = this.state.registration === REGISTRATION.FAILED
        && this.state.registrationCause === 'WebSocket closed' && !token;
      if (this.state.registration === REGISTRATION.CONNECTING || lost) {
        this.set({ registration: REGISTRATION.REGISTERING });
        ua.register();
      }
    });
    ua.on('disconnected', ({ code, reason }) => {
      if (this.ua !== ua) return;
      this.log(`WebSocket closed (${code ?? '-'} ${reason ?? ''})`);
      if (this.state.registration !== REGISTRATION.UNREGISTERED) {
        this.set({ registration: REGISTRATION.FAILED, registrationCause: 'WebSocket closed' });
      }
    });
    ua.on('registered', ({ response }) => {
      if (this.ua !== ua) return;
      // A token is good for one registration; refreshes go without it.
      ua.registrator().setExtraHeaders([]);
      this.set({ registration: REGISTRATION.REGISTERED, registrationCause: null });
      this.log(`registered (${response.status_code}), expires ${response.getHeader('Expires') ?? 'per Contact'}`);
    });
    ua.on('unregistered', ({ response, cause }) => {
      if (this.ua !== ua) return;
      // JsSIP says this too when the WebSocket closed ('disconnected' came
      // first): the registration is lost, not ended; JsSIP reconnects.
      if (!response && !ua.isConnected()) return;
      this.set({ registration: REGISTRATION.UNREGISTERED, registrationCause: cause ?? null });
      this.log(`unregistered${response ? ` (${response.status_code})` : ''}`);
    });
    ua.on('registrationFailed', ({ response, cause }) => {
      if (this.ua !== ua) return;
      const status = response ? `${response.status_code} ${response.reason_phrase}` : cause;
      this.set({ registration: REGISTRATION.FAILED, registrationCause: status });
      this.log(`registration failed: ${status}`);
    });
    ua.on('newRTCSession', (e) => this.onNewSession(e));
    ua.on('newMessage', (e) => {
      if (this.ua !== ua || e.originator !== 'remote') return;
      // JsSIP answers 200 once this returns.
      const r = e.request;
      const type = (r.getHeader('Content-Type') || 'text/plain').split(';')[0].trim().toLowerCase();
      const text = type === 'text/plain' ? (r.body || '') : `(a ${type} message of ${(r.body || '').length} octets)`;
      this.message({ direction: 'incoming', peer: r.from.uri.toString(), text, status: 'received' });
    });
    ua.start();
    return true;
  }

  // De-registers (REGISTER with Expires: 0), then closes the WebSocket.
  unregister() {
    const ua = this.ua;
    if (!ua) return;
    if (this.session && !this.session.isEnded()) this.session.terminate();
    if (!ua.isRegistered()) {
      this.stop();
      return;
    }
    // After the 'unregistered' handler of register() has updated the state.
    ua.once('unregistered', () => {
      if (this.ua === ua) this.stop();
    });
    ua.unregister();
  }

  stop() {
    const ua = this.ua;
    this.ua = null;
    if (ua) ua.stop();
    this.set({ registration: REGISTRATION.UNREGISTERED });
  }

  // --- messages (RFC 3428 pager mode, through the eP-CSCF and the IMS)

  // Each message sent or received: a "message" event {id, direction, peer,
  // text, status: "sending" | "sent" | "failed" | "received", code, cause}.
  message(m) {
    this.dispatchEvent(new CustomEvent('message', { detail: m }));
  }

  sendMessage(target, text) {
    if (!this.ua || !this.ua.isRegistered()) return this.refuse('not registered: register first');
    if (!text) return this.refuse('nothing to send');
    this.messageSeq = (this.messageSeq || 0) + 1;
    const m = { id: this.messageSeq, direction: 'outgoing', peer: target, text };
    this.message({ ...m, status: 'sending' });
    try {
      this.ua.sendMessage(target, text, {
        contentType: 'text/plain;charset=utf-8',
        eventHandlers: {
          succeeded: ({ response }) => this.message({ ...m, status: 'sent', code: response.status_code }),
          failed: ({ response, cause }) => {
            this.message({ ...m, status: 'failed', code: response ? response.status_code : null, cause });
            this.log(`message to ${target} failed: ${response ? `${response.status_code} ${response.reason_phrase}` : cause}`);
          },
        },
      });
    } catch (e) {
      this.message({ ...m, status: 'failed', cause: e.message });
      return this.refuse(`message: ${e.message}`);
    }
    return true;
  }

  // --- calls

  mediaOptions(video) {
    return {
      mediaConstraints: { audio: true, video: Boolean(video) },
      pcConfig: PC_CONFIG,
    };
  }

  // target: a SIP URI, or a user name in the registered domain.
  call(target, { video = false } = {}) {
    if (!this.ua || !this.ua.isRegistered()) return this.refuse('call: not registered');
    if (this.session) return this.refuse('call: already in a call');
    this.chatSetup = null;
    this.set({ call: CALL.CALLING, direction: 'outgoing', peer: target, cause: null, status: null,
      video: Boolean(video), onHold: false, remoteHold: false, dtmfSent: '', dtmfPlayed: '',
      chat: false, chatOnly: false, chatChannel: null });
    try {
      this.ua.call(target, this.mediaOptions(video));
    } catch (e) {
      this.set({ call: CALL.FAILED, cause: e.message });
      this.error(`call: ${e.message}`);
      return false;
    }
    return true;
  }

  answer({ video = false } = {}) {
    if (!this.session || this.state.call !== CALL.RINGING) return this.refuse('answer: no call ringing');
    this.set({ call: CALL.ANSWERING, video: Boolean(video) });
    try {
      this.session.answer(this.mediaOptions(video));
    } catch (e) {
      this.error(`answer: ${e.message}`);
      return false;
    }
    return true;
  }

  reject() {
    if (!this.session || this.state.call !== CALL.RINGING) return false;
    this.session.terminate({ status_code: 486 });
    return true;
  }

  // BYE once confirmed; CANCEL (outgoing) or 480 (incoming) before.
  hangup() {
    if (!this.session || this.session.isEnded()) return false;
    this.session.terminate();
    return true;
  }

  hold() {
    if (!this.session || !this.session.isEstablished()) return this.refuse('hold: no call');
    const ok = this.session.hold({}, () => this.log('hold answered'));
    if (!ok) this.error('hold refused (a re-INVITE is in progress, or already held)');
    return ok;
  }

  resume() {
    if (!this.session || !this.session.isEstablished()) return this.refuse('resume: no call');
    const ok = this.session.unhold({}, () => this.log('resume answered'));
    if (!ok) this.error('resume refused (a re-INVITE is in progress, or not held)');
    return ok;
  }

  // tones: 0-9, *, #, A-D, "," (2 s pause).
  sendDtmf(tones) {
    if (!this.session || !this.session.isEstablished()) return this.refuse('DTMF: no call');
    try {
      this.session.sendDTMF(tones, {
        transportType: JsSIP.C.DTMF_TRANSPORT.RFC2833,
        duration: 160,
        interToneGap: 80,
      });
    } catch (e) {
      this.error(`DTMF: ${e.message}`);
      return false;
    }
    this.set({ dtmfSent: this.state.dtmfSent + tones });
    return true;
  }

  // --- chat sessions (MSRP over a data channel, RFC 8873)

  // A chat session with target: an INVITE with only a data channel, or
  // with audio beside it (audio: true; the gateway bundles both on one
  // transport).
  chat(target, { audio = false } = {}) {
    if (!this.ua || !this.ua.isRegistered()) return this.refuse('chat: not registered');
    if (this.session) return this.refuse('chat: already in a call');
    this.chatSetup = { stream: CHAT_STREAM, path: chatUri(), remote: null, maxMessageSize: null };
    this.set({ call: CALL.CALLING, direction: 'outgoing', peer: target, cause: null, status: null,
      video: false, onHold: false, remoteHold: false, dtmfSent: '', dtmfPlayed: '',
      chat: true, chatOnly: !audio, chatChannel: 'connecting' });
    try {
      this.ua.call(target, {
        mediaConstraints: { audio: Boolean(audio), video: false },
        pcConfig: PC_CONFIG,
        // Before the offer is made, so that it has the m=application line.
        eventHandlers: { peerconnection: ({ peerconnection }) => this.openChatChannel(peerconnection) },
      });
    } catch (e) {
      this.chatSetup = null;
      this.set({ call: CALL.FAILED, cause: e.message, chatChannel: null });
      this.error(`chat: ${e.message}`);
      return false;
    }
    return true;
  }

  // Sends text (or bytes) on the chat session's channel; a "message" event
  // follows it (sending, then sent once every chunk has its 200, or failed).
  sendChat(content, contentType = 'text/plain;charset=utf-8') {
    const c = this.chatSetup;
    if (!c || !c.msrp || this.state.chatChannel !== 'open') return this.refuse('chat: no chat session open');
    if (content === undefined || content === null || content.length === 0) return this.refuse('nothing to send');
    let id;
    try {
      id = c.msrp.sendMessage(content, contentType);
    } catch (e) {
      return this.refuse(`chat: ${e.message}`); // (a message it began is reported failed)
    }
    const text = typeof content === 'string' ? content : `(${content.length} octets of ${contentType})`;
    this.message({ id, direction: 'outgoing', peer: this.state.peer, text, via: 'msrp',
      bytes: typeof content === 'string' ? new TextEncoder().encode(content).length : content.length,
      status: 'sending' });
    return id;
  }

  // The chat's channel on pc: negotiated on the agreed stream (no DCEP), its
  // MSRP session made once it opens (the far end's URI is known by then:
  // the answer, or the offer, came first).
  openChatChannel(pc) {
    const c = this.chatSetup;
    if (!c || c.channel) return;
    const dc = pc.createDataChannel('chat', { negotiated: true, id: c.stream, protocol: 'MSRP' });
    dc.binaryType = 'arraybuffer';
    c.channel = dc;
    dc.addEventListener('open', () => {
      if (this.chatSetup !== c) return;
      if (!c.remote) {
        this.error('chat: the channel opened but the far end gave no MSRP URI');
        return;
      }
      // Chunks that fit the far end's a=max-message-size with their headers.
      const chunk = Math.min(CHAT_CHUNK, (c.maxMessageSize || 65536) - CHAT_HEADROOM);
      if (chunk < 256) {
        this.endChat(c, `the far end's a=max-message-size (${c.maxMessageSize}) is too small for MSRP`);
        return;
      }
      c.msrp = new MsrpSession({
        localPath: c.path,
        remotePath: c.remote,
        chunkSize: chunk,
        send: (frame) => dc.send(frame),
      });
      c.timer = setInterval(() => c.msrp.tick(), CHAT_TICK_MS);
      c.msrp.onmessage = (m) => this.message({ id: m.id, direction: 'incoming', peer: this.state.peer,
        text: m.text ?? `(a ${m.contentType} message of ${m.body.length} octets)`, via: 'msrp',
        bytes: m.body.length, status: 'received' });
      c.msrp.onreport = (r) => {
        this.message({ id: r.id, direction: 'outgoing', peer: this.state.peer, via: 'msrp',
          status: r.status === 'delivered' ? 'sent' : 'failed', code: r.code, cause: r.reason });
        if (r.status !== 'delivered') this.log(`chat message not delivered: ${r.code} ${r.reason}`);
      };
      c.msrp.onerror = (text) => this.log(text);
      this.set({ chatChannel: 'open' });
      this.log(`chat open: ${c.path} <-> ${c.remote}`);
    });
    dc.addEventListener('message', (e) => {
      if (this.chatSetup === c && c.msrp) c.msrp.receive(e.data);
    });
    dc.addEventListener('close', () => {
      if (this.chatSetup !== c) return;
      if (c.msrp) c.msrp.close('the chat channel closed');
      this.set({ chatChannel: 'closed' });
      // A chat-only call has nothing left: unless its BYE is on the way
      // (the far end closed its MSRP connection first), it is hung up.
      if (this.state.chatOnly) {
        setTimeout(() => {
          if (this.chatSetup === c) this.endChat(c, 'the chat channel closed');
        }, CHAT_GRACE_MS);
      }
    });
  }

  // A chat-only call whose chat cannot go on is ended (BYE, or CANCEL
  // before the answer), saying why.
  endChat(c, why) {
    this.error(`chat: ${why}`);
    if (this.chatSetup !== c || !this.state.chatOnly || !this.session || this.session.isEnded()) return;
    try {
      this.session.terminate({ cause: why });
    } catch (e) {
      this.log(`chat: ending the call: ${e.message}`);
    }
  }

  // Every SDP of a chat session: ours gets the chat's a=dcmap / a=dcsa
  // (Chromium writes none for a negotiated channel), the far end's answer
  // gives the gateway's MSRP URI.
  onChatSdp(e) {
    const c = this.chatSetup;
    if (!c) return;
    if (e.originator === 'local') {
      e.sdp = addChatAttributes(e.sdp, { stream: c.stream, path: c.path });
      return;
    }
    const chat = readChat(e.sdp);
    if (!chat || chat.stream !== c.stream) {
      // Refused (port 0, no MSRP a=dcmap) or moved to another stream: once
      // the call is up, a chat-only call is ended.
      c.refused = chat ? `the far end moved the chat to stream ${chat.stream}` : 'the far end refused the chat';
      this.error(`chat: ${c.refused}`);
      return;
    }
    c.remote = chat.path;
    if (c.msrp) c.msrp.remotePath = chat.path; // a re-offer may name another URI
    c.maxMessageSize = chat.maxMessageSize;
  }

  onNewSession({ originator, session, request }) {
    if (this.session) {
      // One call at a time: a second incoming one is busy.
      if (originator === 'remote') session.terminate({ status_code: 486 });
      return;
    }
    this.session = session;
    if (originator === 'remote') {
      const from = request.from.uri.toString();
      // An offered chat: its stream and the gateway's MSRP URI from the offer.
      const chat = readChat(request.body || '');
      this.chatSetup = chat ? { stream: chat.stream, path: chatUri(), remote: chat.path,
        maxMessageSize: chat.maxMessageSize } : null;
      this.set({ call: CALL.RINGING, direction: 'incoming', peer: from, cause: null, status: null,
        video: /^m=video [1-9]/m.test(request.body || ''), onHold: false, remoteHold: false,
        dtmfSent: '', dtmfPlayed: '', chat: Boolean(chat), chatOnly: isChatOnly(request.body || ''),
        chatChannel: chat ? 'connecting' : null });
      this.log(`incoming ${chat ? 'chat' : 'call'} from ${from}`);
      this.dispatchEvent(new CustomEvent('incoming', { detail: { from, chat: Boolean(chat) } }));
    }
    this.set({ calls: this.state.calls + 1 });
    const statusOf = (m) => (m && m.status_code ? m.status_code : null);

    session.on('peerconnection', ({ peerconnection }) => {
      this.attachPc(peerconnection);
      this.openChatChannel(peerconnection); // an offered chat: before the answer is made
    });
    if (session.connection) this.attachPc(session.connection);
    session.on('sdp', (e) => this.onChatSdp(e));
    session.on('progress', ({ response }) => {
      if (originator === 'local') this.set({ call: CALL.PROGRESS });
      if (response) this.log(`progress ${response.status_code} ${response.reason_phrase}`);
    });
    session.on('accepted', () => this.log('accepted'));
    session.on('confirmed', () => {
      this.set({ call: CALL.CONFIRMED });
      this.log('call confirmed');
      const c = this.chatSetup;
      if (c && c.refused) this.endChat(c, c.refused);
    });
    session.on('hold', ({ originator: who }) => {
      if (who === 'local') this.set({ onHold: true });
      else this.set({ remoteHold: true });
      this.log(`on hold (${who})`);
    });
    session.on('unhold', ({ originator: who }) => {
      if (who === 'local') this.set({ onHold: false });
      else this.set({ remoteHold: false });
      this.log(`resumed (${who})`);
    });
    session.on('ended', ({ originator: who, cause }) => {
      this.log(`call ended by ${who}: ${cause}`);
      this.finishCall(CALL.ENDED, cause, null);
    });
    session.on('failed', ({ originator: who, cause, message }) => {
      this.log(`call failed (${who}): ${cause}${statusOf(message) ? ` ${statusOf(message)}` : ''}`);
      this.finishCall(CALL.FAILED, cause, statusOf(message));
    });
    for (const e of ['peerconnection:createofferfailed', 'peerconnection:createanswerfailed',
      'peerconnection:setlocaldescriptionfailed', 'peerconnection:setremotedescriptionfailed',
      'getusermediafailed']) {
      session.on(e, (err) => this.error(`${e}: ${err && err.message ? err.message : err}`));
    }
  }

  attachPc(pc) {
    if (this.pc === pc) return;
    this.pc = pc;
    pc.addEventListener('track', (ev) => {
      this.dispatchEvent(new CustomEvent('track', { detail: { track: ev.track, streams: ev.streams } }));
    });
    pc.addEventListener('iceconnectionstatechange', () => this.log(`ICE ${pc.iceConnectionState}`));
    pc.addEventListener('connectionstatechange', () => this.log(`connection ${pc.connectionState}`));
    // Which tones RTCDTMFSender actually played (once the sender exists).
    const watchDtmf = () => {
      for (const sender of pc.getSenders()) {
        if (sender.dtmf && !sender.dtmf.wicWatched) {
          sender.dtmf.wicWatched = true;
          sender.dtmf.addEventListener('tonechange', (ev) => {
            if (ev.tone) this.set({ dtmfPlayed: this.state.dtmfPlayed + ev.tone });
          });
        }
      }
    };
    pc.addEventListener('signalingstatechange', watchDtmf);
    watchDtmf();
  }

  finishCall(call, cause, status) {
    this.session = null;
    this.pc = null;
    const c = this.chatSetup;
    this.chatSetup = null;
    if (c) {
      clearInterval(c.timer);
      if (c.msrp) c.msrp.close('the call ended');
      if (c.channel && c.channel.readyState !== 'closed') c.channel.close();
    }
    this.set({ call, cause, status, onHold: false, remoteHold: false,
      chatChannel: this.state.chat ? 'closed' : null });
  }

  async stats() {
    if (!this.pc) return null;
    return this.pc.getStats();
  }
}

// Our MSRP URI on a data channel: a host of our own under .invalid (a
// browser has no address to give) and a random session id (RFC 4975 14.1:
// 80 bits or more of randomness).
function chatUri() {
  return `msrp://${randomId(10).toLowerCase()}.invalid:9/${randomId(20)};dc`;
}
