// Unit tests of the WIC's MSRP over a data channel (controlplane/wwsf/web/
// src/msrp.js), under Node's test runner: `node --test tests/unit/wic/`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  MAX_MESSAGE, MAX_STORED, MsrpSession, TRANSACTION_TIMEOUT, frameRequest, frameResponse, parseFrame,
} from '../../../controlplane/wwsf/web/src/msrp.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const WIC = 'msrp://wic.invalid/wic1;dc';
const GW = 'msrp://198.18.0.2:9/gw1;dc';

// Two sessions wired back to back (the gateway's side played by a second
// MsrpSession), every frame kept for inspection.
function pair(options = {}) {
  const wire = { a: [], b: [] };
  const a = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => wire.a.push(f), ...options });
  const b = new MsrpSession({ localPath: GW, remotePath: WIC, send: (f) => wire.b.push(f), ...options });
  const flush = () => {
    while (wire.a.length || wire.b.length) {
      for (const f of wire.a.splice(0)) b.receive(f);
      for (const f of wire.b.splice(0)) a.receive(f);
    }
  };
  return { a, b, wire, flush };
}

test('a SEND as the RFC 4975 example frames it parses back', () => {
  const text = 'MSRP a786hjs2 SEND\r\nTo-Path: msrp://biloxi.example.com:12763/kjhd37s2s20w2a;tcp\r\n'
    + 'From-Path: msrp://atlanta.example.com:7654/jshA7weztas;tcp\r\nMessage-ID: 87652491\r\n'
    + 'Byte-Range: 1-25/25\r\nContent-Type: text/plain\r\n\r\nHey Bob, are you there?\r\n-------a786hjs2$\r\n';
  const f = parseFrame(text);
  assert.equal(f.tid, 'a786hjs2');
  assert.equal(f.method, 'SEND');
  assert.equal(f.flag, '$');
  assert.equal(f.headers['message-id'], '87652491');
  assert.equal(f.headers['byte-range'], '1-25/25');
  assert.equal(dec.decode(f.body), 'Hey Bob, are you there?');
});

test('responses and bodiless requests have no body', () => {
  const r = parseFrame(`MSRP a786hjs2 200 OK\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n-------a786hjs2$\r\n`);
  assert.equal(r.status, 200);
  assert.equal(r.reason, 'OK');
  assert.equal(r.body, null);
  const s = parseFrame(frameRequest({ tid: 'abcd1234', toPath: GW, fromPath: WIC }));
  assert.equal(s.method, 'SEND');
  assert.equal(s.body, null);
});

test('a body that holds CRLFs, blank lines and an end-line look-alike survives', () => {
  const body = enc.encode('line\r\n\r\n-------abcd1234$\r\nmore');
  const f = parseFrame(frameRequest({ tid: 'abcd1234', toPath: GW, fromPath: WIC, body,
    headers: { 'Message-ID': 'm1', 'Byte-Range': `1-${body.length}/${body.length}`, 'Content-Type': 'text/plain' } }));
  assert.deepEqual(f.body, body);
});

test('malformed frames are refused with a reason, never thrown past receive()', () => {
  const bad = [
    '', 'MSRP', 'HTTP/1.1 200 OK\r\n\r\n', 'MSRP ab SEND\r\n-------ab$\r\n', // tid too short
    `MSRP abcd1234 SEND\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n`, //       no end-line
    `MSRP abcd1234 SEND\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n-------other123$\r\n`,
    `MSRP abcd1234 SEND\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n-------abcd1234!\r\n`,
    `MSRP abcd1234 SEND\r\nTo-Path: ${WIC}\r\n-------abcd1234$\r\n`, //         no From-Path
    `MSRP abcd1234 SEND\r\nno colon here\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n-------abcd1234$\r\n`,
  ];
  for (const b of bad) assert.throws(() => parseFrame(b), /./, JSON.stringify(b));
  const sent = [];
  const errors = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => sent.push(f) });
  s.onerror = (e) => errors.push(e);
  for (const b of bad) s.receive(b);
  s.receive(new Uint8Array([0xff, 0xfe, 0, 1, 2]));
  assert.equal(errors.length, bad.length + 1);
  assert.equal(s.counters.refused, bad.length + 1);
  assert.equal(sent.length, 0);
});

test('a short message goes across, is answered 200 and reported delivered', () => {
  const { a, b, wire, flush } = pair();
  const got = [];
  const reports = [];
  b.onmessage = (m) => got.push(m);
  a.onreport = (r) => reports.push(r);
  const id = a.sendMessage('hello IMS');
  assert.equal(wire.a.length, 1);
  const f = parseFrame(wire.a[0]);
  assert.equal(f.headers['to-path'], GW);
  assert.equal(f.headers['from-path'], WIC);
  assert.equal(f.headers['byte-range'], '1-9/9');
  flush();
  assert.equal(got.length, 1);
  assert.equal(got[0].text, 'hello IMS');
  assert.equal(got[0].id, id);
  assert.deepEqual(reports, [{ id, status: 'delivered', code: 200 }]);
});

test('a message larger than a chunk is chunked (+ then $) and reassembled, UTF-8 intact', () => {
  const { a, b, wire, flush } = pair({ chunkSize: 1000 });
  const text = `${'é'.repeat(1500)}${'A'.repeat(2001)}`; // 5,001 octets
  const got = [];
  const reports = [];
  b.onmessage = (m) => got.push(m);
  a.onreport = (r) => reports.push(r);
  const id = a.sendMessage(text);
  const frames = wire.a.map(parseFrame);
  assert.equal(frames.length, 6);
  assert.deepEqual(frames.map((f) => f.flag), ['+', '+', '+', '+', '+', '$']);
  assert.deepEqual(frames.map((f) => f.headers['byte-range']),
    ['1-1000/5001', '1001-2000/5001', '2001-3000/5001', '3001-4000/5001', '4001-5000/5001', '5001-5001/5001']);
  flush();
  assert.equal(got.length, 1);
  assert.equal(got[0].text, text);
  assert.deepEqual(reports, [{ id, status: 'delivered', code: 200 }]);
});

test('chunks out of order, one sent twice, and ranges with * totals reassemble', () => {
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: () => {} });
  const got = [];
  s.onmessage = (m) => got.push(m);
  const big = enc.encode('0123456789'.repeat(10));
  const chunk = (tid, from, to, range, flag) => frameRequest({ tid, toPath: WIC, fromPath: GW,
    headers: { 'Message-ID': 'mid1', 'Byte-Range': range, 'Content-Type': 'text/plain' },
    body: big.subarray(from, to), flag });
  s.receive(chunk('tx000003', 60, 100, '61-100/*', '$'));
  s.receive(chunk('tx000001', 0, 30, '1-30/*', '+'));
  s.receive(chunk('tx000001', 0, 30, '1-30/*', '+'));
  assert.equal(got.length, 0);
  s.receive(chunk('tx000002', 30, 60, '31-*/*', '+'));
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].body, big);
});

test('every SEND is answered 200 along the reversed path; Failure-Report no and partial are honoured', () => {
  const sent = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => sent.push(parseFrame(f)) });
  const send = (tid, extra) => s.receive(frameRequest({ tid, toPath: WIC,
    fromPath: `${GW} msrp://ue.example:2855/u;tcp`, body: enc.encode('x'),
    headers: { 'Message-ID': tid, 'Byte-Range': '1-1/1', ...extra } }));
  send('tx000001', {});
  send('tx000002', { 'Failure-Report': 'no' });
  send('tx000003', { 'Failure-Report': 'partial' });
  // partial: errors are still sent (a second To-Path URI: not ours alone).
  s.receive(frameRequest({ tid: 'tx000004', toPath: `${WIC} msrp://x.invalid/y;dc`, fromPath: GW,
    body: enc.encode('x'), headers: { 'Message-ID': 'm4', 'Byte-Range': '1-1/1', 'Failure-Report': 'partial' } }));
  assert.equal(sent.length, 2);
  assert.equal(sent[1].status, 481);
  assert.equal(sent[0].status, 200);
  assert.equal(sent[0].tid, 'tx000001');
  assert.equal(sent[0].headers['to-path'], GW);
  assert.equal(sent[0].headers['from-path'], WIC);
});

test('a SEND for another session gets 481, other methods 501, REPORTs nothing', () => {
  const sent = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => sent.push(parseFrame(f)) });
  s.receive(frameRequest({ tid: 'tx000001', toPath: 'msrp://wic.invalid/other;dc', fromPath: GW,
    body: enc.encode('x'), headers: { 'Message-ID': 'm', 'Byte-Range': '1-1/1' } }));
  s.receive(frameRequest({ tid: 'tx000002', method: 'NICKNAME', toPath: WIC, fromPath: GW }));
  s.receive(frameRequest({ tid: 'tx000003', method: 'REPORT', toPath: WIC, fromPath: GW,
    headers: { 'Message-ID': 'm', 'Status': '000 200 OK' } }));
  assert.deepEqual(sent.map((f) => f.status), [481, 501]);
});

test('a failure response fails the message; a late or unknown response changes nothing', () => {
  const { a, wire } = pair({ chunkSize: 100 });
  const reports = [];
  a.onreport = (r) => reports.push(r);
  const id = a.sendMessage('x'.repeat(250));
  const first = parseFrame(wire.a[0]);
  a.receive(frameResponse(first, 200, 'OK'));
  a.receive(`MSRP ${parseFrame(wire.a[1]).tid} 413 Too large\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n-------${parseFrame(wire.a[1]).tid}$\r\n`);
  a.receive(frameResponse(parseFrame(wire.a[2]), 200, 'OK'));
  a.receive(`MSRP nosuchtid 200 OK\r\nTo-Path: ${WIC}\r\nFrom-Path: ${GW}\r\n-------nosuchtid$\r\n`);
  assert.deepEqual(reports, [{ id, status: 'failed', code: 413, reason: 'Too large' }]);
});

test('memory is bounded: an oversized message gets 413, and so do too many half-sent ones', () => {
  const sent = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => sent.push(parseFrame(f)), maxMessage: 1000 });
  const got = [];
  s.onmessage = (m) => got.push(m);
  const req = (tid, id, range, flag = '+', n = 10) => frameRequest({ tid, toPath: WIC, fromPath: GW,
    body: enc.encode('y'.repeat(n)), headers: { 'Message-ID': id, 'Byte-Range': range }, flag });
  s.receive(req('tx000001', 'big', '1-10/5000'));
  assert.equal(sent.at(-1).status, 413);
  s.receive(req('tx000002', 'big2', '995-1004/*'));
  assert.equal(sent.at(-1).status, 413);
  for (let i = 0; i < 16; i += 1) s.receive(req(`tx1000${String(i).padStart(2, '0')}`, `half${i}`, '1-10/20'));
  assert.equal(sent.at(-1).status, 200);
  s.receive(req('tx200000', 'one-too-many', '1-10/20'));
  assert.equal(sent.at(-1).status, 413);
  s.receive(req('tx200001', 'half3', '11-20/20', '$'));
  assert.equal(got.length, 1);
  assert.equal(got[0].id, 'half3');
});

test('chunks that overlap or repeat parts of others reassemble without holes', () => {
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: () => {} });
  const got = [];
  s.onmessage = (m) => got.push(m);
  const text = enc.encode('ABCDEFGHIJ');
  const chunk = (tid, from, to, flag) => frameRequest({ tid, toPath: WIC, fromPath: GW, flag,
    headers: { 'Message-ID': 'ov', 'Byte-Range': `${from + 1}-${to}/10` }, body: text.subarray(from, to) });
  s.receive(chunk('tx000001', 0, 6, '+'));
  s.receive(chunk('tx000002', 2, 6, '+')); // inside what came: 4 more octets, none new
  assert.equal(got.length, 0, 'no message from 6 of 10 octets');
  s.receive(chunk('tx000003', 4, 8, '+')); // overlaps: 2 new
  assert.equal(got.length, 0);
  s.receive(chunk('tx000004', 8, 10, '$'));
  assert.equal(got.length, 1);
  assert.equal(got[0].text, 'ABCDEFGHIJ');
  assert.equal(s.stored, 0);
});

test('a Byte-Range that does not match its body gets 400', () => {
  const sent = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => sent.push(parseFrame(f)) });
  const req = (tid, range, n) => s.receive(frameRequest({ tid, toPath: WIC, fromPath: GW,
    headers: { 'Message-ID': tid, 'Byte-Range': range }, body: enc.encode('z'.repeat(n)) }));
  req('tx000001', '1-100/3', 3); //   end says 100 octets, the body has 3
  req('tx000002', '2-4/3', 3); //     past the total
  req('tx000003', '0-2/3', 3); //     ranges start at 1
  assert.deepEqual(sent.map((f) => f.status), [400, 400, 400]);
});

test('a message that never ends cannot hold more than the bounds', () => {
  const sent = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => sent.push(parseFrame(f)), maxMessage: 1000 });
  // total "*" and no "$": chunks at starts 1, 2, 3 ... overlap each other.
  for (let i = 0; i < 100; i += 1) {
    s.receive(frameRequest({ tid: `tx${String(i).padStart(6, '0')}`, toPath: WIC, fromPath: GW, flag: '+',
      headers: { 'Message-ID': 'endless', 'Byte-Range': `${i * 10 + 1}-*/*` }, body: enc.encode('q'.repeat(20)) }));
  }
  assert.ok(s.stored <= 1000, `stored ${s.stored}`);
  assert.equal(sent.filter((f) => f.status === 413).length >= 1, true);
  assert.equal(s.incoming.size, 0, 'the message was dropped at the bound');
  // The total over all messages is bounded too.
  const t = new MsrpSession({ localPath: WIC, remotePath: GW, send: () => {} });
  for (let i = 0; i < 6; i += 1) {
    t.receive(frameRequest({ tid: `tx${String(i).padStart(6, '0')}`, toPath: WIC, fromPath: GW, flag: '+',
      headers: { 'Message-ID': `m${i}`, 'Byte-Range': `1-${MAX_MESSAGE - 1}/${MAX_MESSAGE}` },
      body: new Uint8Array(MAX_MESSAGE - 1) }));
  }
  assert.ok(t.stored <= MAX_STORED, `stored ${t.stored}`);
  assert.equal(t.incoming.size, MAX_STORED / MAX_MESSAGE);
});

test('time: unanswered chunks fail the message with 408, idle half-messages go', () => {
  let now = 0;
  const wire = [];
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: (f) => wire.push(parseFrame(f)), now: () => now });
  const reports = [];
  s.onreport = (r) => reports.push(r);
  const id = s.sendMessage('x'.repeat(10));
  s.receive(frameRequest({ tid: 'tx000001', toPath: WIC, fromPath: GW, flag: '+',
    headers: { 'Message-ID': 'half', 'Byte-Range': '1-5/10' }, body: enc.encode('hello') }));
  now = TRANSACTION_TIMEOUT - 1;
  s.tick();
  assert.equal(reports.length, 0);
  assert.equal(s.incoming.size, 1);
  now = TRANSACTION_TIMEOUT + 1;
  s.tick();
  assert.deepEqual(reports, [{ id, status: 'failed', code: 408, reason: 'no response' }]);
  assert.equal(s.incoming.size, 0);
  assert.equal(s.stored, 0);
  assert.equal(s.counters.expired, 1);
  // Its late 200 changes nothing.
  s.receive(frameResponse(wire[0], 200, 'OK'));
  assert.equal(reports.length, 1);
});

test('close() fails what is outstanding; a channel that throws aborts the message', () => {
  const s = new MsrpSession({ localPath: WIC, remotePath: GW, send: () => {} });
  const reports = [];
  s.onreport = (r) => reports.push(r);
  const a = s.sendMessage('one');
  s.close('hung up');
  assert.deepEqual(reports, [{ id: a, status: 'failed', code: 0, reason: 'hung up' }]);
  assert.throws(() => s.sendMessage('two'), /closed/);
  s.receive(frameRequest({ tid: 'tx000001', toPath: WIC, fromPath: GW, headers: { 'Message-ID': 'm', 'Byte-Range': '1-1/1' }, body: enc.encode('x') }));
  assert.equal(s.counters.received, 0);

  const frames = [];
  let calls = 0;
  const t = new MsrpSession({ localPath: WIC, remotePath: GW, chunkSize: 100, send: (f) => {
    calls += 1;
    if (calls === 2) throw new Error('buffer full');
    frames.push(parseFrame(f));
  } });
  const treports = [];
  t.onreport = (r) => treports.push(r);
  assert.throws(() => t.sendMessage('y'.repeat(300)), /buffer full/);
  assert.equal(treports.length, 1);
  assert.equal(treports[0].status, 'failed');
  assert.deepEqual(frames.map((f) => f.flag), ['+', '#'], 'the first chunk, then the abort');
  assert.equal(t.pending.size, 0);
});

test('100,000 octets each way in 16 KiB chunks, digests equal', () => {
  const { a, b, wire, flush } = pair();
  const big = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(4000).slice(0, 100000);
  const got = { a: [], b: [] };
  a.onmessage = (m) => got.a.push(m);
  b.onmessage = (m) => got.b.push(m);
  a.sendMessage(big);
  b.sendMessage(big);
  assert.equal(wire.a.length, 7);
  flush();
  const sha = (x) => createHash('sha256').update(x).digest('hex');
  assert.equal(sha(got.a[0].body), sha(big));
  assert.equal(sha(got.b[0].body), sha(big));
  assert.equal(a.counters.received, 1);
  assert.equal(b.counters.chunksIn, 7);
});
