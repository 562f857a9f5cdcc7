// fake-rtc.mjs: a stand-in for the browser's WebRTC API, enough for JsSIP's
// RTCSession on Node.js. It does no media and opens no socket: it writes and
// reads SDP only. Offers and answers look like Chrome's (UDP/TLS/RTP/SAVPF,
// ICE credentials, a DTLS fingerprint, BUNDLE, rtcp-mux, one host candidate),
// built from the parameters given to installFakeRtc(); remote descriptions of
// any kind (RTP/AVP without ICE too) are accepted and handed to a callback.
// Used by w2-call.mjs.
//
// Note: JsSIP writes hold directions into its re-offers itself
// (RTCSession._mangleOffer: sdp-transform parse, direction, write), so a
// hold offer on the wire says a=sendonly while this fake's local
// description still says sendrecv, and its lines come in sdp-transform's
// order, not Chrome's. A browser behaves the same under JsSIP.
//
// What JsSIP 3.13.8 uses of it (lib/RTCSession.js): window.RTCPeerConnection
// (a truthiness check before a call, also in UA.js for an incoming INVITE),
// new RTCPeerConnection(), new RTCSessionDescription(), createOffer,
// createAnswer, setLocalDescription, setRemoteDescription, localDescription,
// signalingState (a 2xx after an 18x with SDP re-offers when 'stable'),
// iceGatheringState with the 'icecandidate' and 'icegatheringstatechange'
// events (JsSIP sends its SDP only once gathering is complete),
// iceConnectionState with 'iceconnectionstatechange' ('failed' ends the
// call, never fired here), addTrack, getSenders (mute and hold set
// sender.track.enabled) and close().

import { randomBytes, randomInt } from 'node:crypto';

// ---------------------------------------------------------------- errors

function domError(name, message) {
  const e = new Error(message);
  e.name = name;
  return e;
}

// ---------------------------------------------------------------- SDP reading

// The attribute value of the first "a=NAME:..." (or "a=NAME") in LINES, or null.
function attr(lines, name) {
  for (const l of lines) {
    if (l === `a=${name}`) return '';
    if (l.startsWith(`a=${name}:`)) return l.slice(name.length + 3);
  }
  return null;
}

const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

function directionOf(lines) {
  for (const l of lines) {
    const d = l.slice(2);
    if (l.startsWith('a=') && DIRECTIONS.includes(d)) return d;
  }
  return null;
}

function connectionAddress(lines) {
  for (const l of lines) {
    const m = /^c=IN IP[46] ([^\s/]+)/.exec(l);
    if (m) return m[1];
  }
  return null;
}

// parseSdp(TEXT): { session: [lines], media: [{ type, port, proto, formats,
// lines }] }. Tolerant: it reads any line-based text; what is missing is
// null or empty.
export function parseSdp(text) {
  const out = { session: [], media: [] };
  let cur = out.session;
  for (const raw of String(text ?? '').split(/\r?\n/)) {
    const l = raw.trimEnd();
    if (l === '') continue;
    const m = /^m=(\S+) (\d+)(?:\/\d+)? (\S+)(?: (.*))?$/.exec(l);
    if (m) {
      const section = {
        type: m[1], port: Number(m[2]), proto: m[3],
        formats: (m[4] ?? '').split(' ').filter((f) => f !== ''), lines: [],
      };
      out.media.push(section);
      cur = section.lines;
    } else if (l.startsWith('m=')) {
      // A malformed m= line still opens a section, so that its attributes
      // are not taken for the previous one's.
      const section = { type: null, port: null, proto: null, formats: [], lines: [] };
      out.media.push(section);
      cur = section.lines;
    } else {
      cur.push(l);
    }
  }
  return out;
}

// RTP payload types of a section by number: { pt, name, clock, channels, fmtp }.
// The static types 0 and 8 need no rtpmap (RFC 3551).
function codecsOf(section) {
  const STATIC = { 0: ['PCMU', 8000, 1], 8: ['PCMA', 8000, 1], 9: ['G722', 8000, 1], 18: ['G729', 8000, 1] };
  const map = new Map();
  for (const f of section.formats) {
    const s = STATIC[f];
    map.set(f, { pt: f, name: s ? s[0] : null, clock: s ? s[1] : null, channels: s ? s[2] : null, fmtp: null });
  }
  for (const l of section.lines) {
    let m = /^a=rtpmap:(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?/.exec(l);
    if (m && map.has(m[1])) {
      Object.assign(map.get(m[1]), { name: m[2], clock: Number(m[3]), channels: m[4] ? Number(m[4]) : 1 });
      continue;
    }
    m = /^a=fmtp:(\d+) (.*)$/.exec(l);
    if (m && map.has(m[1])) map.get(m[1]).fmtp = m[2];
  }
  return [...map.values()];
}

// The first candidate of component 1 in LINES: { address, port, protocol, type }.
function firstCandidate(lines) {
  for (const l of lines) {
    const m = /^a=candidate:\S+ (\d+) (\S+) \d+ (\S+) (\d+) typ (\S+)/.exec(l);
    if (m && m[1] === '1') return { address: m[3], port: Number(m[4]), protocol: m[2].toLowerCase(), type: m[5] };
  }
  return null;
}

// summarizeSdp(TEXT): what a test needs to start a media peer for this
// description. The top-level fields describe the first audio section (the
// first section if there is no audio), with session-level values where the
// section has none; null when absent. "media" lists every section.
export function summarizeSdp(text) {
  const sdp = parseSdp(text);
  const sess = sdp.session;
  const media = sdp.media.map((s) => {
    const cand = firstCandidate(s.lines);
    return {
      type: s.type,
      port: s.port,
      proto: s.proto,
      formats: s.formats,
      codecs: codecsOf(s).map((c) => (c.name ? `${c.pt} ${c.name}/${c.clock}${c.channels > 1 ? `/${c.channels}` : ''}` : c.pt)),
      mid: attr(s.lines, 'mid'),
      direction: directionOf(s.lines) ?? directionOf(sess) ?? 'sendrecv',
      connection_address: connectionAddress(s.lines) ?? connectionAddress(sess),
      ice_ufrag: attr(s.lines, 'ice-ufrag') ?? attr(sess, 'ice-ufrag'),
      candidate_address: cand ? cand.address : null,
      candidate_port: cand ? cand.port : null,
      rtcp_mux: attr(s.lines, 'rtcp-mux') !== null,
    };
  });
  const i = Math.max(0, sdp.media.findIndex((s) => s.type === 'audio'));
  const s = sdp.media[i] ?? { lines: [], port: null };
  const cand = firstCandidate(s.lines);
  const bundle = attr(sess, 'group');
  return {
    ice_ufrag: attr(s.lines, 'ice-ufrag') ?? attr(sess, 'ice-ufrag'),
    ice_pwd: attr(s.lines, 'ice-pwd') ?? attr(sess, 'ice-pwd'),
    ice_lite: attr(sess, 'ice-lite') !== null,
    fingerprint: attr(s.lines, 'fingerprint') ?? attr(sess, 'fingerprint'),
    setup: attr(s.lines, 'setup') ?? attr(sess, 'setup'),
    candidate_address: cand ? cand.address : null,
    candidate_port: cand ? cand.port : null,
    connection_address: connectionAddress(s.lines) ?? connectionAddress(sess),
    port: s.port,
    proto: s.proto ?? null,
    direction: sdp.media.length ? media[i].direction : null,
    bundle: bundle !== null && bundle.startsWith('BUNDLE') ? bundle.split(' ').slice(1) : null,
    media,
  };
}

// ---------------------------------------------------------------- SDP writing

// Chrome's audio and video codecs (a subset, with Chrome's payload types).
const AUDIO_CODECS = [
  { pt: '111', name: 'opus', clock: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1', fb: ['transport-cc'] },
  { pt: '0', name: 'PCMU', clock: 8000, channels: 1, fmtp: null, fb: [] },
  { pt: '126', name: 'telephone-event', clock: 8000, channels: 1, fmtp: null, fb: [] },
];
const VIDEO_FB = ['goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli'];
const VIDEO_CODECS = [
  { pt: '96', name: 'VP8', clock: 90000, channels: 1, fmtp: null, fb: VIDEO_FB, rtx: '97' },
  {
    pt: '102', name: 'H264', clock: 90000, channels: 1,
    fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f', fb: VIDEO_FB, rtx: '103',
  },
];
const EXTMAP = {
  audio: ['1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    '2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    '3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    '4 urn:ietf:params:rtp-hdrext:sdes:mid'],
  video: ['14 urn:ietf:params:rtp-hdrext:toffset',
    '2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    '3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    '4 urn:ietf:params:rtp-hdrext:sdes:mid'],
};

const ICE_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function iceString(n) {
  let s = '';
  for (let i = 0; i < n; i++) s += ICE_CHARS[randomInt(ICE_CHARS.length)];
  return s;
}
function token(n) {
  return randomBytes(n).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
}

// A fresh SHA-256 fingerprint value ("AB:CD:..."), as a browser's
// certificate would have. No certificate exists behind it.
export function randomFingerprint() {
  return [...randomBytes(32)].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

function codecLines(c) {
  const out = [`a=rtpmap:${c.pt} ${c.name}/${c.clock}${c.channels > 1 ? `/${c.channels}` : ''}`];
  for (const f of c.fb) out.push(`a=rtcp-fb:${c.pt} ${f}`);
  if (c.fmtp) out.push(`a=fmtp:${c.pt} ${c.fmtp}`);
  return out;
}

// ---------------------------------------------------------------- tracks

let trackCounter = 0;

// A local MediaStreamTrack without media: JsSIP reads kind and sets enabled.
export class FakeMediaStreamTrack {
  constructor(kind) {
    this.kind = kind;
    this.id = `${kind}-${token(8)}-${++trackCounter}`;
    this.label = `fake ${kind}`;
    this.enabled = true;
    this.muted = false;
    this.readyState = 'live';
  }
  stop() { this.readyState = 'ended'; }
  clone() { return new FakeMediaStreamTrack(this.kind); }
  getSettings() { return {}; }
}

// A local MediaStream, passed to JsSIP as options.mediaStream so that it
// never calls navigator.mediaDevices.getUserMedia().
export class FakeMediaStream {
  constructor(tracks = []) {
    this.id = token(36);
    this._tracks = [...tracks];
  }
  getTracks() { return [...this._tracks]; }
  getAudioTracks() { return this._tracks.filter((t) => t.kind === 'audio'); }
  getVideoTracks() { return this._tracks.filter((t) => t.kind === 'video'); }
  addTrack(t) { if (!this._tracks.includes(t)) this._tracks.push(t); }
  removeTrack(t) { this._tracks = this._tracks.filter((x) => x !== t); }
  get active() { return this._tracks.some((t) => t.readyState === 'live'); }
}

export function fakeLocalStream({ video = false } = {}) {
  const tracks = [new FakeMediaStreamTrack('audio')];
  if (video) tracks.push(new FakeMediaStreamTrack('video'));
  return new FakeMediaStream(tracks);
}

// ---------------------------------------------------------------- descriptions

export class FakeRTCSessionDescription {
  constructor(init = {}) {
    this.type = init.type;
    this.sdp = init.sdp ?? '';
  }
  toJSON() { return { type: this.type, sdp: this.sdp }; }
}

export class FakeRTCIceCandidate {
  constructor(init = {}) {
    this.candidate = init.candidate ?? '';
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
    this.usernameFragment = init.usernameFragment ?? null;
  }
  toJSON() {
    return { candidate: this.candidate, sdpMid: this.sdpMid, sdpMLineIndex: this.sdpMLineIndex, usernameFragment: this.usernameFragment };
  }
}

// ---------------------------------------------------------------- the peer connection

// Parameters shared by every FakeRTCPeerConnection (set by installFakeRtc).
const params = {
  ufrag: null,
  pwd: null,
  fingerprint: null, // "AB:CD:..." (sha-256)
  candidate: null, // { address, port } or null: no candidate, port 9
  onRemoteDescription: null, // (desc) => void, for each accepted remote description
  onLocalDescription: null, // (desc) => void, for each local description set
};

class FakeRTCPeerConnection extends EventTarget {
  constructor(configuration = {}) {
    super();
    this._configuration = configuration ?? {};
    this.signalingState = 'stable';
    this.iceGatheringState = 'new';
    this.iceConnectionState = 'new';
    this.connectionState = 'new';
    this.localDescription = null;
    this.remoteDescription = null;
    this.currentLocalDescription = null;
    this.currentRemoteDescription = null;
    this.pendingLocalDescription = null;
    this.pendingRemoteDescription = null;
    this.canTrickleIceCandidates = null;
    this.onicecandidate = null;
    this.onicegatheringstatechange = null;
    this.oniceconnectionstatechange = null;
    this.onsignalingstatechange = null;
    this.onnegotiationneeded = null;
    this.ontrack = null;
    this.onconnectionstatechange = null;
    this._senders = [];
    // The m-sections negotiated so far: [{ mid, kind, rejected, fmt }]. A
    // re-offer keeps them, in order.
    this._sections = [];
    // Chrome's session id: a random 63-bit number.
    this._sessionId = (randomBytes(8).readBigUInt64BE() >> 1n).toString();
    this._sessionVersion = 1;
    this._streamId = token(36);
    this._ssrc = { audio: randomInt(1, 2 ** 32 - 1), video: randomInt(1, 2 ** 32 - 1), rtx: randomInt(1, 2 ** 32 - 1) };
    this._cname = token(16);
    this._gathered = false;
  }

  getConfiguration() { return { ...this._configuration }; }
  setConfiguration(c) { this._configuration = { ...c }; }

  // Events go to addEventListener listeners and to the on<type> property.
  _fire(type, props = {}) {
    const ev = new Event(type);
    Object.assign(ev, props);
    const h = this[`on${type}`];
    if (typeof h === 'function') h.call(this, ev);
    this.dispatchEvent(ev);
  }

  _checkOpen() {
    if (this.signalingState === 'closed') throw domError('InvalidStateError', 'The RTCPeerConnection is closed');
  }

  _setSignalingState(s) {
    if (this.signalingState === s) return;
    this.signalingState = s;
    this._fire('signalingstatechange');
  }

  // --- tracks

  addTrack(track, ...streams) {
    this._checkOpen();
    if (this._senders.some((s) => s.track === track)) throw domError('InvalidAccessError', 'track already added');
    const sender = {
      track,
      dtmf: null, // no RTCDTMFSender: JsSIP then sends DTMF by INFO only
      streams,
      replaceTrack: async (t) => { sender.track = t; },
      getParameters: () => ({ encodings: [] }),
      setParameters: async () => {},
      getStats: async () => new Map(),
    };
    this._senders.push(sender);
    return sender;
  }
  addStream(stream) { for (const t of stream.getTracks()) this.addTrack(t, stream); }
  removeTrack(sender) { this._checkOpen(); sender.track = null; }
  getSenders() { return [...this._senders]; }
  getReceivers() { return []; }
  getTransceivers() { return []; }
  getLocalStreams() { return []; }
  getRemoteStreams() { return []; }
  getStats() { return Promise.resolve(new Map()); }
  addIceCandidate() { return Promise.resolve(); }
  restartIce() {}
  createDataChannel() { throw domError('NotSupportedError', 'no data channels in the fake RTCPeerConnection'); }

  _hasTrack(kind) { return this._senders.some((s) => s.track && s.track.kind === kind); }

  // --- offers and answers

  createOffer(options = {}) {
    try {
      this._checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    const wanted = [];
    for (const kind of ['audio', 'video']) {
      const recv = kind === 'audio' ? options?.offerToReceiveAudio : options?.offerToReceiveVideo;
      if (this._hasTrack(kind) || recv) wanted.push(kind);
    }
    for (const kind of wanted) {
      if (!this._sections.some((s) => s.kind === kind && !s.rejected)) this._sections.push({ mid: String(this._sections.length), kind, rejected: false });
    }
    this._sessionVersion += 1;
    return Promise.resolve(new FakeRTCSessionDescription({ type: 'offer', sdp: this._writeOffer() }));
  }

  createAnswer() {
    try {
      this._checkOpen();
      if (this.signalingState !== 'have-remote-offer') {
        throw domError('InvalidStateError', `createAnswer called in state ${this.signalingState}`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    this._sessionVersion += 1;
    return Promise.resolve(new FakeRTCSessionDescription({ type: 'answer', sdp: this._writeAnswer(parseSdp(this.remoteDescription.sdp)) }));
  }

  // The transport lines of every live m-section: ICE, DTLS and, once
  // gathered, the candidate (Chrome lists its candidates in the description
  // only after gathering; before, the port is 9 and the address 0.0.0.0).
  _transport(setup) {
    const c = this._gathered ? params.candidate : null;
    const lines = [`c=IN IP4 ${c ? c.address : '0.0.0.0'}`, 'a=rtcp:9 IN IP4 0.0.0.0'];
    if (c) lines.push(this._candidateLine());
    lines.push(`a=ice-ufrag:${params.ufrag}`, `a=ice-pwd:${params.pwd}`, 'a=ice-options:trickle',
      `a=fingerprint:sha-256 ${params.fingerprint}`, `a=setup:${setup}`);
    return lines;
  }

  _candidateLine() {
    const c = params.candidate;
    return `a=candidate:1467250027 1 udp 2122260223 ${c.address} ${c.port} typ host generation 0 network-id 1`;
  }

  _port() { return this._gathered && params.candidate ? params.candidate.port : 9; }

  _head(groupMids, allowMixed) {
    const lines = ['v=0', `o=- ${this._sessionId} ${this._sessionVersion} IN IP4 127.0.0.1`, 's=-', 't=0 0'];
    if (groupMids && groupMids.length) lines.push(`a=group:BUNDLE ${groupMids.join(' ')}`);
    if (allowMixed) lines.push('a=extmap-allow-mixed');
    lines.push(`a=msid-semantic: WMS ${this._hasTrack('audio') || this._hasTrack('video') ? this._streamId : ''}`.trimEnd());
    return lines;
  }

  _sendingLines(kind) {
    const sender = this._senders.find((s) => s.track && s.track.kind === kind);
    if (!sender) return { msid: [], ssrc: [] };
    const msid = [`a=msid:${this._streamId} ${sender.track.id}`];
    const ssrc = [];
    if (kind === 'video') ssrc.push(`a=ssrc-group:FID ${this._ssrc.video} ${this._ssrc.rtx}`);
    const ids = kind === 'video' ? [this._ssrc.video, this._ssrc.rtx] : [this._ssrc.audio];
    for (const id of ids) ssrc.push(`a=ssrc:${id} cname:${this._cname}`, `a=ssrc:${id} msid:${this._streamId} ${sender.track.id}`);
    return { msid, ssrc };
  }

  _writeOffer() {
    const lines = this._head(this._sections.filter((s) => !s.rejected).map((s) => s.mid), true);
    for (const { mid, kind, rejected, fmt } of this._sections) {
      if (rejected) {
        // A section rejected earlier stays in place, with port 0 (RFC 3264 8.1).
        lines.push(`m=${kind} 0 UDP/TLS/RTP/SAVPF ${fmt}`, 'c=IN IP4 0.0.0.0', `a=mid:${mid}`, 'a=inactive');
        continue;
      }
      const codecs = kind === 'audio' ? AUDIO_CODECS : VIDEO_CODECS;
      const fmts = [];
      for (const c of codecs) { fmts.push(c.pt); if (c.rtx) fmts.push(c.rtx); }
      lines.push(`m=${kind} ${this._port()} UDP/TLS/RTP/SAVPF ${fmts.join(' ')}`);
      lines.push(...this._transport('actpass'));
      lines.push(`a=mid:${mid}`);
      for (const e of EXTMAP[kind]) lines.push(`a=extmap:${e}`);
      const send = this._sendingLines(kind);
      lines.push(`a=${send.msid.length ? 'sendrecv' : 'recvonly'}`, ...send.msid, 'a=rtcp-mux');
      if (kind === 'video') lines.push('a=rtcp-rsize');
      for (const c of codecs) {
        lines.push(...codecLines(c));
        if (c.rtx) lines.push(`a=rtpmap:${c.rtx} rtx/90000`, `a=fmtp:${c.rtx} apt=${c.pt}`);
      }
      lines.push(...send.ssrc);
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  // RFC 3264 section 6 as a browser applies it: one m-section per offered
  // one, in order; the codecs both sides know with the offer's payload
  // types; the direction reversed and limited by the local tracks; BUNDLE,
  // a=mid and rtcp-mux only where the offer has them. Sections of a type
  // this fake cannot answer, with no common codec, or with port 0 are
  // rejected (port 0).
  _writeAnswer(offer) {
    const offerBundle = attr(offer.session, 'group');
    const bundled = offerBundle && offerBundle.startsWith('BUNDLE ') ? offerBundle.split(' ').slice(1) : [];
    const sections = [];
    const accepted = [];
    const negotiated = [];
    offer.media.forEach((o, index) => {
      const mid = attr(o.lines, 'mid');
      const kind = o.type;
      const known = kind === 'audio' ? AUDIO_CODECS : kind === 'video' ? VIDEO_CODECS : [];
      const codecs = [];
      for (const oc of codecsOf(o)) {
        const k = known.find((c) => oc.name && c.name.toLowerCase() === oc.name.toLowerCase() && c.clock === oc.clock);
        if (k) codecs.push({ ...k, pt: oc.pt, fmtp: k.name === 'telephone-event' ? oc.fmtp : k.fmtp, rtx: null });
      }
      // telephone-event alone is no codec.
      const usable = codecs.some((c) => c.name !== 'telephone-event');
      const lines = [];
      if (!o.port || !usable) {
        lines.push(`m=${kind ?? 'audio'} 0 ${o.proto ?? 'UDP/TLS/RTP/SAVPF'} ${o.formats[0] ?? '0'}`, 'c=IN IP4 0.0.0.0');
        if (mid !== null) lines.push(`a=mid:${mid}`);
        lines.push('a=inactive');
        sections.push(lines);
        negotiated.push({ mid: mid ?? String(index), kind: kind ?? 'audio', rejected: true, fmt: o.formats[0] ?? '0' });
        return;
      }
      if (mid !== null && bundled.includes(mid)) accepted.push(mid);
      negotiated.push({ mid: mid ?? String(index), kind, rejected: false });
      const offered = directionOf(o.lines) ?? directionOf(offer.session) ?? 'sendrecv';
      const reverse = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' }[offered];
      const canSend = this._hasTrack(kind);
      let dir = reverse;
      if (!canSend && dir === 'sendrecv') dir = 'recvonly';
      if (!canSend && dir === 'sendonly') dir = 'inactive';
      const offeredSetup = attr(o.lines, 'setup') ?? attr(offer.session, 'setup');
      const setup = offeredSetup === 'active' ? 'passive' : 'active';
      lines.push(`m=${kind} ${this._port()} UDP/TLS/RTP/SAVPF ${codecs.map((c) => c.pt).join(' ')}`);
      lines.push(...this._transport(setup));
      if (mid !== null) lines.push(`a=mid:${mid}`);
      const send = dir === 'sendrecv' || dir === 'sendonly' ? this._sendingLines(kind) : { msid: [], ssrc: [] };
      lines.push(`a=${dir}`, ...send.msid);
      if (attr(o.lines, 'rtcp-mux') !== null) lines.push('a=rtcp-mux');
      if (kind === 'video' && attr(o.lines, 'rtcp-rsize') !== null) lines.push('a=rtcp-rsize');
      for (const c of codecs) lines.push(...codecLines(c));
      lines.push(...send.ssrc);
      sections.push(lines);
    });
    this._sections = negotiated;
    const head = this._head(accepted, attr(offer.session, 'extmap-allow-mixed') !== null);
    return `${[...head, ...sections.flat()].join('\r\n')}\r\n`;
  }

  // --- setting descriptions (RFC 8829 / W3C webrtc-pc 4.4.1.5)

  setLocalDescription(desc) {
    try {
      this._checkOpen();
      if (!desc || !desc.type) throw domError('TypeError', 'setLocalDescription needs a description');
      const from = this.signalingState;
      if (desc.type === 'offer') {
        if (from !== 'stable' && from !== 'have-local-offer') throw domError('InvalidStateError', `Failed to set local offer sdp: Called in wrong state: ${from}`);
      } else if (desc.type === 'answer' || desc.type === 'pranswer') {
        if (from !== 'have-remote-offer' && from !== 'have-local-pranswer') throw domError('InvalidStateError', `Failed to set local answer sdp: Called in wrong state: ${from}`);
      } else {
        throw domError('TypeError', `unsupported description type ${desc.type}`);
      }
    } catch (e) {
      return Promise.reject(e);
    }
    const d = new FakeRTCSessionDescription({ type: desc.type, sdp: this._gathered ? this._withCandidate(desc.sdp) : desc.sdp });
    this.localDescription = d;
    if (d.type === 'offer') {
      this.pendingLocalDescription = d;
      this._setSignalingState('have-local-offer');
    } else if (d.type === 'pranswer') {
      this.pendingLocalDescription = d;
      this._setSignalingState('have-local-pranswer');
    } else {
      this.currentLocalDescription = d;
      this.currentRemoteDescription = this.remoteDescription;
      this.pendingLocalDescription = null;
      this.pendingRemoteDescription = null;
      this._setSignalingState('stable');
    }
    if (params.onLocalDescription) params.onLocalDescription(d);
    if (this.iceGatheringState === 'new') this._gather();
    return Promise.resolve();
  }

  setRemoteDescription(desc) {
    try {
      this._checkOpen();
      if (!desc || !desc.type) throw domError('TypeError', 'setRemoteDescription needs a description');
      const from = this.signalingState;
      if (desc.type === 'offer') {
        if (from !== 'stable' && from !== 'have-remote-offer') throw domError('InvalidStateError', `Failed to set remote offer sdp: Called in wrong state: ${from}`);
      } else if (desc.type === 'answer' || desc.type === 'pranswer') {
        if (from !== 'have-local-offer' && from !== 'have-remote-pranswer') throw domError('InvalidStateError', `Failed to set remote answer sdp: Called in wrong state: ${from}`);
      } else {
        throw domError('TypeError', `unsupported description type ${desc.type}`);
      }
      // Whatever its content, a description must at least be SDP.
      if (!/^v=0\r?$/m.test(String(desc.sdp ?? ''))) throw domError('OperationError', 'Failed to parse SessionDescription: no v=0 line');
    } catch (e) {
      return Promise.reject(e);
    }
    const d = new FakeRTCSessionDescription({ type: desc.type, sdp: desc.sdp });
    this.remoteDescription = d;
    if (d.type === 'offer') {
      this.pendingRemoteDescription = d;
      this._setSignalingState('have-remote-offer');
    } else if (d.type === 'pranswer') {
      this.pendingRemoteDescription = d;
      this._setSignalingState('have-remote-pranswer');
    } else {
      this.currentRemoteDescription = d;
      this.currentLocalDescription = this.localDescription;
      this.pendingLocalDescription = null;
      this.pendingRemoteDescription = null;
      this._setSignalingState('stable');
    }
    if (params.onRemoteDescription) params.onRemoteDescription(d);
    return Promise.resolve();
  }

  // The local description as it reads once the candidate is known: the
  // m-line port and c= address of every live section become the
  // candidate's, and the candidate line follows a=rtcp.
  _withCandidate(sdp) {
    const c = params.candidate;
    if (!c || /^a=candidate:/m.test(sdp)) return sdp;
    const out = [];
    let live = false;
    for (const l of sdp.split(/\r\n/)) {
      const m = /^m=(\S+) (\d+) (.*)$/.exec(l);
      if (m) {
        live = m[2] !== '0';
        out.push(live ? `m=${m[1]} ${c.port} ${m[3]}` : l);
        continue;
      }
      if (live && /^c=IN IP4 0\.0\.0\.0$/.test(l)) { out.push(`c=IN IP4 ${c.address}`); continue; }
      out.push(l);
      if (live && l.startsWith('a=rtcp:')) out.push(this._candidateLine());
    }
    return out.join('\r\n');
  }

  // ICE gathering, started by the first setLocalDescription: 'gathering',
  // the host candidate (if one is configured), the end-of-candidates event
  // (candidate null), 'complete'. All within one turn of the event loop.
  _gather() {
    this.iceGatheringState = 'gathering';
    this._fire('icegatheringstatechange');
    setImmediate(() => {
      if (this.signalingState === 'closed') return;
      this._gathered = true;
      if (this.localDescription) {
        this.localDescription = new FakeRTCSessionDescription({ type: this.localDescription.type, sdp: this._withCandidate(this.localDescription.sdp) });
        if (this.pendingLocalDescription) this.pendingLocalDescription = this.localDescription;
        else this.currentLocalDescription = this.localDescription;
      }
      if (params.candidate) {
        const cand = new FakeRTCIceCandidate({
          candidate: this._candidateLine().slice(2), sdpMid: this._sections[0]?.mid ?? '0', sdpMLineIndex: 0, usernameFragment: params.ufrag,
        });
        this._fire('icecandidate', { candidate: cand });
      }
      this.iceGatheringState = 'complete';
      this._fire('icegatheringstatechange');
      this._fire('icecandidate', { candidate: null });
    });
  }

  close() {
    if (this.signalingState === 'closed') return;
    // The W3C close() fires no events.
    this.signalingState = 'closed';
    this.iceConnectionState = 'closed';
    this.connectionState = 'closed';
    for (const s of this._senders) if (s.track) s.track.stop();
  }
}

// installFakeRtc({ ufrag, pwd, fingerprint, candidate, onRemoteDescription,
// onLocalDescription }): makes the fake the global RTCPeerConnection (and
// RTCSessionDescription, RTCIceCandidate), and defines `window` as the
// global object if it is missing (JsSIP checks window.RTCPeerConnection).
// ufrag, pwd and fingerprint default to random values; candidate is
// { address, port } or null. Returns the values in use.
export function installFakeRtc(options = {}) {
  params.ufrag = options.ufrag ?? iceString(4);
  params.pwd = options.pwd ?? iceString(24);
  params.fingerprint = options.fingerprint ?? randomFingerprint();
  params.candidate = options.candidate ?? null;
  params.onRemoteDescription = options.onRemoteDescription ?? null;
  params.onLocalDescription = options.onLocalDescription ?? null;
  if (typeof globalThis.window === 'undefined') globalThis.window = globalThis;
  globalThis.RTCPeerConnection = FakeRTCPeerConnection;
  globalThis.RTCSessionDescription = FakeRTCSessionDescription;
  globalThis.RTCIceCandidate = FakeRTCIceCandidate;
  return { ufrag: params.ufrag, pwd: params.pwd, fingerprint: params.fingerprint, candidate: params.candidate };
}

export { FakeRTCPeerConnection };
