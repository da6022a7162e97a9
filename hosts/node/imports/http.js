// The `ipaas:connector/http` import for Node: egress policy, host-owned OAuth (client
// credentials) or a bearer token from the form, request caps, and a synchronous transport (the component model call is
// synchronous, so each exchange runs in a child process that this thread waits for).
//
// Every request, the token request included, is checked here (scheme, credentials, literal
// address, origin allow-list) and again in the child, which also judges the addresses a
// name resolves to before connecting to them (../fetch-sync.mjs).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  EgressPolicy,
  MAX_REQUEST_BYTES,
  MAX_REQUESTS_PER_CALL,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
} from '../egress.mjs';

const FETCH = fileURLToPath(new URL('../fetch-sync.mjs', import.meta.url));

/** Until `configure`, nothing may be reached (describe, plan). */
let policy = new EgressPolicy([], false);
let pinned = {};
let oauth = null; // { tokenUrl, clientId, clientSecret, scopes }
/** A bearer token from the connection form (`auth-plan.bearer`), sent as it is. */
let formToken = null;
/** Where the token request may go: the token URL's origin, which the host has checked lies
 *  within what the package declares for this form (it need not be among the plan's). */
let tokenPolicy = new EgressPolicy([], false);
let token = null;
let requests = 0;

/** Set by the host after `connection.plan`, before any call that reaches the network.
 *  `allowedOrigins` are the plan's origins, already checked to lie within what the package
 *  declares for this form. */
export function configure({ allowedOrigins, allowLoopback, oauth: settings, formToken: pasted, pinned: names }) {
  policy = new EgressPolicy(allowedOrigins, allowLoopback);
  pinned = names ?? {};
  oauth = settings ?? null;
  formToken = pasted ?? null;
  tokenPolicy = new EgressPolicy(oauth ? [oauth.tokenUrl] : [], allowLoopback);
  token = null;
  requests = 0;
}

/** One exchange through the child process; the parsed URL has passed the policy. */
function exchange(url, req) {
  const timeoutMs = Math.min(req.timeoutMs ?? DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
  const run = spawnSync(process.execPath, [FETCH], {
    input: JSON.stringify({ ...req, url: url.href, timeoutMs, allowLoopback: policy.allowLoopback, pinned }),
    // A 64 MiB body is about 86 MiB of base64.
    maxBuffer: 128 << 20,
  });
  if (run.status !== 0) throw { tag: 'connect', val: `fetch helper failed: ${run.error?.message ?? run.stderr}` };
  const out = JSON.parse(run.stdout.toString('utf8'));
  if (out.error) {
    if (out.error.tag === 'too-large') throw { tag: 'too-large', val: BigInt(out.error.val) };
    throw out.error;
  }
  return out;
}

function checked(url, by = policy) {
  try {
    return by.check(url);
  } catch (e) {
    throw { tag: 'denied', val: e.message };
  }
}

/** The form's token, or a client-credentials token from the plan's token endpoint (the guest
 *  never sees either). */
function bearer(renew) {
  if (formToken) return formToken;
  if (token && !renew) return token;
  if (!oauth) throw { tag: 'unauthenticated', val: 'this connection has no credentials to attach' };
  const res = exchange(checked(oauth.tokenUrl, tokenPolicy), {
    method: 'POST',
    headers: [['content-type', 'application/json'], ['accept', 'application/json']],
    body: Buffer.from(JSON.stringify({
      grant_type: 'client_credentials',
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
      scope: oauth.scopes.join(' '),
    })).toString('base64'),
  });
  let body = {};
  try {
    body = JSON.parse(Buffer.from(res.body, 'base64').toString('utf8') || '{}');
  } catch {
    // Not JSON: no token.
  }
  if (res.status !== 200 || typeof body.access_token !== 'string' || !body.access_token) {
    const code = typeof body.error === 'string' ? body.error.slice(0, 100) : '';
    throw { tag: 'unauthenticated', val: `token endpoint answered ${res.status} ${code}`.trim() };
  }
  token = body.access_token;
  return token;
}

export function send(req) {
  const url = checked(req.url);
  if (req.headers.some(([k]) => k.toLowerCase() === 'authorization')) {
    throw { tag: 'invalid-request', val: 'the `authorization` header is set by the host' };
  }
  if (req.body && req.body.length > MAX_REQUEST_BYTES) {
    throw {
      tag: 'invalid-request',
      val: `a request body of ${req.body.length} bytes exceeds the host's ${MAX_REQUEST_BYTES}-byte limit`,
    };
  }
  if (requests >= MAX_REQUESTS_PER_CALL) {
    throw { tag: 'denied', val: `more than ${MAX_REQUESTS_PER_CALL} requests in one call` };
  }
  requests += 1;
  const wire = (auth) => {
    const headers = auth ? [...req.headers, ['authorization', `Bearer ${auth}`]] : req.headers;
    const out = exchange(url, {
      method: req.method.toUpperCase(),
      headers,
      body: req.body ? Buffer.from(req.body).toString('base64') : undefined,
      timeoutMs: req.timeoutMs,
    });
    return { status: out.status, headers: out.headers, body: new Uint8Array(Buffer.from(out.body, 'base64')) };
  };
  if (!req.authenticate) return wire(null);
  const res = wire(bearer(false));
  // One renewal and one retry on a 401, as the wasmtime host does; a form's token cannot be
  // renewed, so its 401 goes to the guest as it came.
  return res.status === 401 && !formToken ? wire(bearer(true)) : res;
}

/** The secrets this module holds (client secret, tokens), for masking host output. */
export function heldSecrets() {
  return [oauth?.clientSecret, token, formToken].filter((s) => typeof s === 'string' && s.length >= 6);
}
