// Media statistics: one RTCStatsReport (W3C webrtc-stats) summarized into a
// plain object the page shows and tests read (window.wic.stats()).
//
// {
//   at,                                   the report's timestamp (ms)
//   audio: { out: {...}, in: {...}, source: {...} } | null,
//   video: { out: {...}, in: {...} } | null,
//   transport: { dtlsState, iceState, dtlsRole, srtpCipher, dtlsCipher,
//                tlsVersion, bytesSent, bytesReceived, packetsSent,
//                packetsReceived } | null,
//   pair: { state, nominated, local: {address, port, protocol, type},
//           remote: {...}, rtt, requestsSent, responsesReceived,
//           bytesSent, bytesReceived } | null      the selected pair
//   pairs: [{ state, nominated, local: "a:p", remote: "a:p", requestsSent,
//            responsesReceived }]   every pair (its connectivity checks)
//   transports: [{ dtlsState, iceState, srtpCipher, bytesSent, bytesReceived,
//                  pair: "a:p -> a:p" }]   every transport (one per m-line)
// }
// Fields a browser does not report are left out (undefined), never guessed.

function pick(obj, keys) {
  const out = {};
  for (const k of keys) {
    if (obj[k] !== undefined) out[k] = obj[k];
  }
  return out;
}

function candidate(c) {
  if (!c) return null;
  return {
    address: c.address ?? c.ip,
    port: c.port,
    protocol: c.protocol,
    type: c.candidateType,
  };
}

const RTP_OUT = ['ssrc', 'packetsSent', 'bytesSent', 'headerBytesSent', 'retransmittedPacketsSent',
  'nackCount', 'targetBitrate', 'framesEncoded', 'keyFramesEncoded', 'framesSent', 'frameWidth',
  'frameHeight', 'pliCount', 'firCount', 'active', 'mid'];
const RTP_IN = ['ssrc', 'packetsReceived', 'bytesReceived', 'headerBytesReceived', 'packetsLost',
  'packetsDiscarded', 'jitter', 'audioLevel', 'totalAudioEnergy', 'totalSamplesReceived',
  'concealedSamples', 'jitterBufferDelay', 'jitterBufferEmittedCount', 'framesReceived', 'framesDecoded',
  'keyFramesDecoded', 'pliCount', 'firCount',
  'frameWidth', 'frameHeight', 'lastPacketReceivedTimestamp', 'mid'];
const SOURCE = ['audioLevel', 'totalAudioEnergy', 'totalSamplesDuration', 'width', 'height',
  'framesPerSecond'];
const TRANSPORT = ['dtlsState', 'iceState', 'iceRole', 'dtlsRole', 'srtpCipher', 'dtlsCipher',
  'tlsVersion', 'bytesSent', 'bytesReceived', 'packetsSent', 'packetsReceived',
  'selectedCandidatePairChanges'];

export function summarizeStats(report) {
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const codecOf = (s) => {
    const c = s.codecId ? byId.get(s.codecId) : null;
    return c ? `${c.mimeType}/${c.clockRate}${c.payloadType !== undefined ? ` pt ${c.payloadType}` : ''}` : undefined;
  };
  const summary = { at: null, audio: null, video: null, transport: null, pair: null, pairs: [], transports: [] };
  const media = (kind) => {
    if (!summary[kind]) summary[kind] = { out: null, in: null, source: null };
    return summary[kind];
  };
  let transport = null;
  for (const s of byId.values()) {
    if (summary.at === null) summary.at = s.timestamp;
    const kind = s.kind ?? s.mediaType;
    if (s.type === 'outbound-rtp' && kind) {
      media(kind).out = { ...pick(s, RTP_OUT), codec: codecOf(s) };
    } else if (s.type === 'inbound-rtp' && kind) {
      media(kind).in = { ...pick(s, RTP_IN), codec: codecOf(s) };
    } else if (s.type === 'media-source' && kind) {
      media(kind).source = pick(s, SOURCE);
    } else if (s.type === 'transport') {
      // One transport per m-line without BUNDLE: the first with a selected
      // pair is `transport` (audio's, in practice); all are in `transports`.
      if (!transport || (s.selectedCandidatePairId && !transport.selectedCandidatePairId)) transport = s;
      const p = s.selectedCandidatePairId ? byId.get(s.selectedCandidatePairId) : null;
      const l = p ? byId.get(p.localCandidateId) : null;
      const r = p ? byId.get(p.remoteCandidateId) : null;
      summary.transports.push({
        ...pick(s, ['dtlsState', 'iceState', 'srtpCipher', 'bytesSent', 'bytesReceived']),
        pair: l && r ? `${l.address ?? l.ip}:${l.port} -> ${r.address ?? r.ip}:${r.port}` : null,
      });
    } else if (s.type === 'candidate-pair') {
      const l = byId.get(s.localCandidateId);
      const r = byId.get(s.remoteCandidateId);
      summary.pairs.push({
        state: s.state,
        nominated: Boolean(s.nominated),
        local: l ? `${l.address ?? l.ip}:${l.port}/${l.protocol}` : null,
        remote: r ? `${r.address ?? r.ip}:${r.port}/${r.protocol}` : null,
        requestsSent: s.requestsSent ?? 0,
        responsesReceived: s.responsesReceived ?? 0,
      });
    }
  }
  if (transport) {
    summary.transport = pick(transport, TRANSPORT);
    const p = transport.selectedCandidatePairId ? byId.get(transport.selectedCandidatePairId) : null;
    if (p) {
      summary.pair = {
        state: p.state,
        nominated: Boolean(p.nominated),
        local: candidate(byId.get(p.localCandidateId)),
        remote: candidate(byId.get(p.remoteCandidateId)),
        rtt: p.currentRoundTripTime,
        requestsSent: p.requestsSent,
        responsesReceived: p.responsesReceived,
        requestsReceived: p.requestsReceived,
        bytesSent: p.bytesSent,
        bytesReceived: p.bytesReceived,
      };
    }
  }
  return summary;
}

// Rows for the page's table: [label, value] pairs.
export function statsRows(s) {
  const rows = [];
  const n = (v) => (v === undefined || v === null ? '-' : String(v));
  const lvl = (v) => (v === undefined ? '-' : v.toFixed(3));
  for (const kind of ['audio', 'video']) {
    const m = s[kind];
    if (!m) continue;
    if (m.out) {
      rows.push([`${kind} sent (packets / bytes)`, `${n(m.out.packetsSent)} / ${n(m.out.bytesSent)}`]);
      rows.push([`${kind} send codec`, n(m.out.codec)]);
    }
    if (m.source && kind === 'audio') rows.push(['microphone level', lvl(m.source.audioLevel)]);
    if (m.in) {
      rows.push([`${kind} received (packets / bytes)`, `${n(m.in.packetsReceived)} / ${n(m.in.bytesReceived)}`]);
      rows.push([`${kind} lost / jitter (s)`, `${n(m.in.packetsLost)} / ${n(m.in.jitter)}`]);
      if (kind === 'audio') rows.push(['remote audio level', lvl(m.in.audioLevel)]);
      rows.push([`${kind} receive codec`, n(m.in.codec)]);
    }
  }
  if (s.transport) {
    rows.push(['ICE / DTLS', `${n(s.transport.iceState)} / ${n(s.transport.dtlsState)} (${n(s.transport.dtlsRole)})`]);
    rows.push(['SRTP cipher / DTLS cipher', `${n(s.transport.srtpCipher)} / ${n(s.transport.dtlsCipher)}`]);
  }
  if (s.pair) {
    const c = (x) => (x ? `${x.address}:${x.port} ${x.protocol} ${x.type}` : '-');
    rows.push(['selected pair', `${c(s.pair.local)} -> ${c(s.pair.remote)} (${s.pair.state})`]);
    rows.push(['round trip (s)', n(s.pair.rtt)]);
  }
  return rows;
}
