// The `http` import as the guest calls it (imports/http.js): policy, request caps and the
// response cap, against a loopback server in a worker thread (the import blocks this
// thread while its child process talks to the server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { configure, send } from '../imports/http.js';
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../egress.mjs';

const SERVER = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
let connections = 0;
const unauthorized = [];
const server = http.createServer((req, res) => {
  if (req.url === '/unauthorized') {
    unauthorized.push(req.headers.authorization ?? null);
    res.statusCode = 401;
    res.setHeader('content-length', '2');
    return res.end('{}');
  }
  const size = { '/over-declared': ${MAX_RESPONSE_BYTES} + 1, '/over-chunked': ${MAX_RESPONSE_BYTES} + 1,
                 '/exact': ${MAX_RESPONSE_BYTES} }[req.url] ?? 2;
  if (req.url !== '/over-chunked') res.setHeader('content-length', String(size));
  res.on('error', () => {});
  req.socket.on('error', () => {});
  const chunk = Buffer.alloc(1 << 20, 0x61);
  let left = size;
  const pump = () => {
    while (left > 0) {
      const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= c.length;
      if (!res.write(c)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.on('connection', () => { connections += 1; });
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => {
  if (m === 'count') parentPort.postMessage({ connections });
  if (m === 'unauthorized') parentPort.postMessage({ unauthorized });
  if (m === 'close') server.close(() => process.exit(0));
});
`;

let worker;
let origin;

before(async () => {
  worker = new Worker(SERVER, { eval: true });
  const { port } = await new Promise((resolve) => worker.once('message', resolve));
  origin = `http://127.0.0.1:${port}`;
});

after(async () => {
  worker.postMessage('close');
  await new Promise((resolve) => worker.once('exit', resolve));
});

const connections = () =>
  new Promise((resolve) => {
    worker.once('message', (m) => resolve(m.connections));
    worker.postMessage('count');
  });

const get = (url, extra = {}) => ({ method: 'get', url, headers: [], body: undefined, authenticate: false, ...extra });

test('answers within the policy; refusals never connect', async () => {
  configure({ allowedOrigins: [origin], allowLoopback: true, oauth: null });
  const ok = send(get(`${origin}/small`));
  assert.equal(ok.status, 200);
  assert.equal(Buffer.from(ok.body).toString(), 'aa');
  const before = await connections();
  const refused = (req, tag, pattern) =>
    assert.throws(() => send(req), (e) => e.tag === tag && pattern.test(String(e.val)), req.url);
  refused(get('http://127.0.0.1:1/other-port'), 'denied', /not a host/);
  refused(get(`${origin.replace('127.0.0.1', '2130706433')}/x`, { headers: [['Authorization', 'Bearer x']] }),
    'invalid-request', /set by the host/);
  refused(get(`${origin}/x`, { method: 'post', body: new Uint8Array(MAX_REQUEST_BYTES + 1) }), 'invalid-request',
    /exceeds the host's 104857600-byte limit/);
  refused(get(`${origin}/x`, { authenticate: true }), 'unauthenticated', /no credentials/);
  // Without --allow-loopback the same origin is refused, in any spelling.
  configure({ allowedOrigins: [origin], allowLoopback: false, oauth: null });
  for (const spelling of ['127.0.0.1', '127.1', '0x7f.1', '2130706433', '0177.0.0.1']) {
    refused(get(`${origin.replace('127.0.0.1', spelling)}/x`), 'denied', /loopback address/);
  }
  assert.equal(await connections(), before, 'no connection for a refused request');
});

test('responses over 64 MiB are refused as too-large, announced or not', () => {
  configure({ allowedOrigins: [origin], allowLoopback: true, oauth: null });
  for (const path of ['/over-declared', '/over-chunked']) {
    assert.throws(() => send(get(`${origin}${path}`)), (e) => e.tag === 'too-large' && e.val === BigInt(MAX_RESPONSE_BYTES), path);
  }
  const exact = send(get(`${origin}/exact`));
  assert.equal(exact.body.length, MAX_RESPONSE_BYTES);
});

test('a form token is sent as a bearer, and its 401 is the guest\'s: no renewal, no retry', async () => {
  configure({ allowedOrigins: [origin], allowLoopback: true, oauth: null, formToken: 'pasted-profile-token-9f3a' });
  const res = send(get(`${origin}/unauthorized`, { authenticate: true }));
  assert.equal(res.status, 401);
  const seen = await new Promise((resolve) => {
    worker.once('message', (m) => resolve(m.unauthorized));
    worker.postMessage('unauthorized');
  });
  assert.deepEqual(seen, ['Bearer pasted-profile-token-9f3a']);
});
