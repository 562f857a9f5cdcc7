// Unit tests of the WIC's chat SDP (controlplane/wwsf/web/src/chat_sdp.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addChatAttributes, isChatOnly, readChat } from '../../../controlplane/wwsf/web/src/chat_sdp.js';

// What Chromium offers for one negotiated data channel (no a=dcmap).
const CHROME_OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'a=extmap-allow-mixed', 'a=msid-semantic: WMS',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2113937151 198.18.0.1 50000 typ host generation 0',
  'a=ice-ufrag:Dc01', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=ice-options:trickle',
  'a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF',
  'a=setup:actpass', 'a=mid:0', 'a=sctp-port:5000', 'a=max-message-size:262144', '',
].join('\r\n');

// The gateway's answer as the IMS-ALG writes it (rewrite_msrp_test.cpp).
const GW_ANSWER = [
  'v=0', 'o=- 1 1 IN IP4 198.18.0.2', 's=-', 'c=IN IP4 198.18.0.2', 't=0 0', 'a=ice-lite',
  'm=application 40002 UDP/DTLS/SCTP webrtc-datachannel',
  'a=dcmap:0 label="chat";subprotocol="MSRP";ordered=1',
  'a=dcsa:0 path:msrp://198.18.0.2:40002/gwsid01;dc', 'a=dcsa:0 accept-types:text/plain',
  'a=sctp-port:5000', 'a=max-message-size:65536', 'a=setup:passive', '',
].join('\r\n');

test('the chat attributes go at the end of the data channel m= line', () => {
  const out = addChatAttributes(CHROME_OFFER, { stream: 0, path: 'msrp://wic7.invalid:9/wic7chat;dc' });
  const lines = out.split('\r\n');
  const i = lines.indexOf('a=max-message-size:262144');
  assert.deepEqual(lines.slice(i + 1, i + 4), [
    'a=dcmap:0 label="chat";subprotocol="MSRP"',
    'a=dcsa:0 path:msrp://wic7.invalid:9/wic7chat;dc',
    'a=dcsa:0 accept-types:text/plain',
  ]);
  assert.ok(out.endsWith('\r\n'));
  assert.equal(out.split('\r\n').length, CHROME_OFFER.split('\r\n').length + 3);
  // And the WIC reads back what it wrote.
  assert.deepEqual(readChat(out), { stream: 0, label: 'chat', port: 9,
    path: 'msrp://wic7.invalid:9/wic7chat;dc', acceptTypes: 'text/plain', maxMessageSize: 262144 });
});

test('with audio before it, only the data channel line gets them', () => {
  const audio = CHROME_OFFER.replace('m=application', 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\nm=application');
  const out = addChatAttributes(audio, { stream: 2, path: 'msrp://x.invalid/y;dc' });
  assert.ok(out.indexOf('a=dcmap:2') > out.indexOf('m=application'));
  assert.equal(isChatOnly(out), false);
  assert.equal(isChatOnly(addChatAttributes(CHROME_OFFER, { stream: 2, path: 'msrp://x.invalid/y;dc' })), true);
});

test('an SDP without a data channel is left as it is', () => {
  const audio = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n';
  assert.equal(addChatAttributes(audio, { stream: 0, path: 'msrp://x.invalid/y;dc' }), audio);
  assert.equal(readChat(audio), null);
});

test("the gateway's answer gives its MSRP URI and message size", () => {
  assert.deepEqual(readChat(GW_ANSWER), { stream: 0, label: 'chat', port: 40002,
    path: 'msrp://198.18.0.2:40002/gwsid01;dc', acceptTypes: 'text/plain', maxMessageSize: 65536 });
  assert.equal(isChatOnly(GW_ANSWER), true);
});

test('a refused chat (port 0), a non-MSRP channel or a missing path is no chat', () => {
  assert.equal(readChat(GW_ANSWER.replace('m=application 40002', 'm=application 0')), null);
  assert.equal(readChat(GW_ANSWER.replace('subprotocol="MSRP"', 'subprotocol="bfcp"')), null);
  assert.equal(readChat(GW_ANSWER.replace(/a=dcsa:0 path:[^\r]*\r\n/, '')), null);
  assert.equal(readChat(GW_ANSWER.replace(/a=dcmap:0/, 'a=dcmap:70000')), null);
  // The path is read for the chat's own stream only.
  assert.equal(readChat(GW_ANSWER.replace('a=dcsa:0 path', 'a=dcsa:4 path')), null);
  // LF-only line ends are read too.
  assert.equal(readChat(GW_ANSWER.replace(/\r\n/g, '\n')).path, 'msrp://198.18.0.2:40002/gwsid01;dc');
});

test('a chat offered bundle-only (port 0 and a=bundle-only, beside audio) is a chat', () => {
  const audio = 'm=audio 40010 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n';
  const offer = GW_ANSWER.replace('a=ice-lite\r\n', 'a=ice-lite\r\na=group:BUNDLE 0 1\r\n' + audio)
    .replace('m=application 40002', 'm=application 0')
    .replace('a=setup:passive', 'a=setup:actpass\r\na=mid:1\r\na=bundle-only');
  const chat = readChat(offer);
  assert.equal(chat.port, 0);
  assert.equal(chat.path, 'msrp://198.18.0.2:40002/gwsid01;dc');
  assert.equal(isChatOnly(offer), false);
  // bundle-only outside a group (or without a mid) is no chat: port 0 refused.
  assert.equal(readChat(offer.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0')), null);
  assert.equal(readChat(offer.replace('a=group:BUNDLE 0 1\r\n', '')), null);
});
