// One HTTP exchange for imports/http.js, run as a child process so the component's synchronous
// `http.send` import can wait for it (spawnSync). Request JSON on stdin:
//   {"method", "url", "headers": [[k, v]], "body" (base64)?, "timeoutMs", "allowLoopback", "pinned"}
// Response JSON on stdout: {"status", "headers", "body" (base64)} or {"error": {"tag", "val"}}
// (the WIT http-error).
//
// The URL was checked by the parent (imports/http.js) and is checked again here with the same
// parser and rules; a name is resolved here, refused if any of its addresses is not public,
// and the socket connects only to the addresses that passed (`guardedLookup`). Redirects are
// not followed: the connector sees a 3xx as the answer. The response is refused as
// `too-large` when it announces, or grows past, MAX_RESPONSE_BYTES.
import http from 'node:http';
import https from 'node:https';
import { checkAddress, guardedLookup, MAX_RESPONSE_BYTES } from './egress.mjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function exchange() {
  return new Promise((resolve) => {
    let url;
    try {
      url = checkAddress(req.url, req.allowLoopback);
    } catch (e) {
      resolve({ error: { tag: 'denied', val: e.message } });
      return;
    }
    const headers = {};
    for (const [k, v] of req.headers) {
      const name = k.toLowerCase();
      headers[name] = name in headers ? [].concat(headers[name], v) : v;
    }
    const body = req.body === undefined ? undefined : Buffer.from(req.body, 'base64');
    if (body !== undefined && !('content-length' in headers)) headers['content-length'] = String(body.length);
    const transport = url.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (out) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(out);
      }
    };
    let request;
    try {
      request = transport.request({
        method: req.method,
        // The host as the URL parser wrote it (IPv6 without brackets for the socket).
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        headers,
        agent: false,
        lookup: guardedLookup({ allowLoopback: req.allowLoopback, pinned: req.pinned ?? {} }),
      });
    } catch (e) {
      // A header name or value, or a method, Node will not put on the wire.
      resolve({ error: { tag: 'invalid-request', val: String(e.message) } });
      return;
    }
    const timer = setTimeout(() => {
      finish({ error: { tag: 'timeout' } });
      request.destroy();
    }, req.timeoutMs);
    request.on('error', (e) => {
      finish(e.refused ? { error: { tag: 'denied', val: e.message } } : { error: { tag: 'connect', val: String(e.message) } });
    });
    request.on('response', (res) => {
      const tooLarge = () => {
        finish({ error: { tag: 'too-large', val: MAX_RESPONSE_BYTES } });
        res.destroy();
        request.destroy();
      };
      const declared = res.headers['content-length'];
      if (declared !== undefined && Number(declared) > MAX_RESPONSE_BYTES) {
        tooLarge();
        return;
      }
      const parts = [];
      let received = 0;
      res.on('data', (chunk) => {
        if (settled) return;
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) {
          parts.length = 0;
          tooLarge();
          return;
        }
        parts.push(chunk);
      });
      res.on('error', (e) => finish({ error: { tag: 'connect', val: String(e.message) } }));
      res.on('aborted', () => finish({ error: { tag: 'connect', val: 'the response was cut short' } }));
      res.on('end', () => {
        const pairs = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        finish({ status: res.statusCode, headers: pairs, body: Buffer.concat(parts).toString('base64') });
      });
    });
    request.end(body);
  });
}

const out = await exchange();
process.stdout.write(JSON.stringify(out), () => process.exit(0));
