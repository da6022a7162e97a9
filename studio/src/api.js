// The studio's only way to the backend: every /api request carries the token that the
// server printed in the page's URL (`?token=…`), since any other page on this machine
// could otherwise drive the connector through 127.0.0.1.

const token = new URLSearchParams(window.location.search).get('token') ?? '';

export const hasToken = token !== '';

/** A failure of the studio itself (network, token, malformed request), shaped like a
 * connector error so panels show both the same way. */
function studioError(kind, message) {
  return { error: { kind, message }, trace: [] };
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        'X-Studio-Token': token,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return studioError('studio', `The studio server did not answer: ${e.message}`);
  }
  if (response.status === 401) {
    return studioError(
      'studio_token',
      'The studio token is missing or wrong: open the exact URL that `connector-harness studio` printed.',
    );
  }
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    return studioError('studio', `HTTP ${response.status} from ${path}: ${text.slice(0, 300)}`);
  }
  if (!response.ok && !json.error) {
    return studioError('studio', `HTTP ${response.status} from ${path}: ${text.slice(0, 300)}`);
  }
  return json;
}

const enc = encodeURIComponent;

export const api = {
  manifest: () => call('GET', '/api/manifest'),
  presets: () => call('GET', '/api/presets'),
  connect: (form, preset) => call('POST', '/api/connection', preset ? { form, preset } : { form }),
  schema: (key, input) => call('POST', `/api/actions/${enc(key)}/schema`, { input }),
  run: (key, input) => call('POST', `/api/actions/${enc(key)}/run`, { input }),
  options: (provider, params, cursor) =>
    call('POST', `/api/options/${enc(provider)}`, cursor == null ? { params } : { params, cursor }),
  poll: (key, input, reset) =>
    call('POST', `/api/triggers/${enc(key)}/poll`, reset ? { input, reset: true } : { input }),
  subscribe: (key, input) => call('POST', `/api/triggers/${enc(key)}/subscribe`, { input }),
  unsubscribe: (key) => call('POST', `/api/triggers/${enc(key)}/unsubscribe`, {}),
  deliveries: (after) => call('GET', `/api/deliveries?after=${enc(after)}`),
};
