// The `ipaas:connector/http` import for Node: egress policy, host-owned OAuth (client
// credentials), and a synchronous transport (the component model call is synchronous, so each
// exchange runs in a child process that this thread waits for).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FETCH = fileURLToPath(new URL('../fetch-sync.mjs', import.meta.url));

let policy = { origins: [], allowLoopback: false };
let oauth = null; // { tokenUrl, clientId, clientSecret, scopes }
let token = null;

/** Set by the host after `connection.plan`, before any call that reaches the network. */
export function configure({ allowedOrigins, allowLoopback, oauth: settings }) {
  policy = { origins: allowedOrigins, allowLoopback };
  oauth = settings ?? null;
  token = null;
}

function exchange(req) {
  const run = spawnSync(process.execPath, [FETCH], { input: JSON.stringify(req), maxBuffer: 64 << 20 });
  if (run.status !== 0) throw { tag: 'connect', val: `fetch helper failed: ${run.stderr}` };
  const out = JSON.parse(run.stdout.toString('utf8'));
  if (out.error) throw out.error;
  return out;
}

function allowed(url) {
  const origin = new URL(url).origin;
  if (policy.origins.includes(origin)) return true;
  return policy.allowLoopback && /^http:\/\/127\.0\.0\.1(:\d+)?$/.test(origin);
}

/** A client-credentials token from the plan's token endpoint (the guest never sees it). */
function bearer(renew) {
  if (token && !renew) return token;
  if (!oauth) throw { tag: 'unauthenticated', val: 'this connection has no credentials to attach' };
  const res = exchange({
    method: 'POST',
    url: oauth.tokenUrl,
    headers: [['content-type', 'application/json'], ['accept', 'application/json']],
    body: Buffer.from(JSON.stringify({
      grant_type: 'client_credentials',
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
      scope: oauth.scopes.join(' '),
    })).toString('base64'),
  });
  const body = JSON.parse(Buffer.from(res.body, 'base64').toString('utf8') || '{}');
  if (res.status !== 200 || !body.access_token) {
    throw { tag: 'unauthenticated', val: `token endpoint answered ${res.status} ${body.error ?? ''}`.trim() };
  }
  token = body.access_token;
  return token;
}

export function send(req) {
  if (!allowed(req.url)) throw { tag: 'denied', val: `${new URL(req.url).origin} is not an allowed origin` };
  if (req.headers.some(([k]) => k.toLowerCase() === 'authorization')) {
    throw { tag: 'invalid-request', val: 'the `authorization` header is set by the host' };
  }
  const wire = (auth) => {
    const headers = auth ? [...req.headers, ['authorization', `Bearer ${auth}`]] : req.headers;
    const out = exchange({
      method: req.method.toUpperCase(),
      url: req.url,
      headers,
      body: req.body ? Buffer.from(req.body).toString('base64') : undefined,
      timeoutMs: req.timeoutMs,
    });
    return { status: out.status, headers: out.headers, body: new Uint8Array(Buffer.from(out.body, 'base64')) };
  };
  if (!req.authenticate) return wire(null);
  const res = wire(bearer(false));
  // One renewal and one retry on a 401, as the wasmtime host does.
  return res.status === 401 ? wire(bearer(true)) : res;
}
