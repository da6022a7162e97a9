// The Node host's policy pieces, one by one (`npm test`; host-harness/tests/node_host.rs runs
// it). The cases follow the wasmtime host's unit tests in host-harness/host/src/policy.rs,
// egress.rs and resolver.rs, so the two hosts are held to the same table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  EgressPolicy,
  bind,
  canonicalOrigin,
  checkAddress,
  nonPublic,
  parseDeclaration,
  resolveChecked,
  shown,
  within,
} from '../egress.mjs';
import { formSecrets, mask, redact, secretFields } from '../secrets.mjs';

/** fixtures/egress/non-public-spellings.txt, with PORT filled in. */
function spellings(port) {
  return readFileSync(new URL('../../../fixtures/egress/non-public-spellings.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace('PORT', String(port)));
}

test('only the allowed https origin', () => {
  const p = new EgressPolicy(['https://api.example.com'], false);
  assert.equal(p.check('https://API.example.com:443/v1/items?page=0').href, 'https://api.example.com/v1/items?page=0');
  assert.throws(() => p.check('https://other.example.com/x'), /not a host/);
  assert.throws(() => p.check('http://api.example.com/x'), /plain http/);
  assert.throws(() => p.check('https://user:pw@api.example.com/'), /credentials/);
  assert.throws(() => p.check('ftp://api.example.com/'), /scheme/);
});

test('loopback only when allowed', () => {
  const strict = new EgressPolicy(['http://127.0.0.1:4010'], false);
  assert.throws(() => strict.check('http://127.0.0.1:4010/oauth/token'), /--allow-loopback/);
  const relaxed = new EgressPolicy(['http://127.0.0.1:4010'], true);
  relaxed.check('http://127.0.0.1:4010/oauth/token');
  // Another spelling of the same origin is the same origin.
  relaxed.check('http://2130706433:4010/oauth/token');
  relaxed.check('http://0x7f.1:4010/');
  assert.throws(() => relaxed.check('http://10.0.0.1/'));
  assert.throws(() => relaxed.check('http://169.254.169.254/latest/meta-data'));
  assert.throws(() => relaxed.check('http://127.0.0.1:9999/'));
});

test('every non-public spelling is refused, whatever the allow-list says', () => {
  const all = spellings(4010);
  assert.ok(all.length > 70);
  for (const url of all) {
    assert.throws(() => new EgressPolicy([url], false).check(url), undefined, `${url} must be refused`);
    assert.throws(() => checkAddress(url, false), undefined, `${url} must be refused`);
  }
});

test('--allow-loopback lets loopback through and nothing else', () => {
  for (const url of spellings(4010)) {
    let parsed;
    try {
      parsed = checkAddress(url, true);
    } catch {
      continue;
    }
    const host = parsed.hostname.replace(/\.+$/, '');
    assert.ok(host === 'localhost' || host === '[::1]' || host.startsWith('127.'), `${url} passed as ${parsed.href}`);
  }
});

test('canonical origins', () => {
  assert.equal(canonicalOrigin('https://2130706433:8443/x'), 'https://127.0.0.1:8443');
  assert.equal(canonicalOrigin('HTTPS://Api.Example.COM:443'), 'https://api.example.com');
  assert.equal(canonicalOrigin('https://[0:0::1]/'), 'https://[::1]');
  assert.throws(() => canonicalOrigin('not a url'));
  assert.throws(() => canonicalOrigin('data:text/plain,x'));
});

test('long URLs are shown bounded', () => {
  const long = `https://a.example/${'x'.repeat(100_000)}`;
  assert.ok(shown(long).length < 200);
  let message = '';
  try {
    new EgressPolicy([], false).check(`https://${'é'.repeat(50_000)}`);
  } catch (e) {
    message = e.message;
  }
  assert.ok(message.length > 0 && message.length < 400, message);
});

test('classifies addresses', () => {
  assert.equal(nonPublic('169.254.169.254'), 'link-local (cloud metadata)');
  assert.equal(nonPublic('::ffff:10.0.0.1'), 'private');
  assert.equal(nonPublic('64:ff9b::7f00:1'), 'loopback');
  assert.equal(nonPublic('2002:a9fe:a9fe::'), 'link-local (cloud metadata)');
  assert.equal(nonPublic('fd00:ec2::254'), 'unique local (private)');
  assert.equal(nonPublic('::'), 'unspecified');
  assert.equal(nonPublic('100::1'), 'discard-only');
  assert.equal(nonPublic('2001:db8::1'), 'documentation');
  for (const v4 of ['0.1.2.3', '10.9.9.9', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.255',
    '192.0.0.8', '192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '198.19.255.255', '224.0.0.1', '239.1.1.1',
    '240.0.0.1', '255.255.255.255', '127.8.8.8']) {
    assert.notEqual(nonPublic(v4), null, v4);
  }
  for (const v6 of ['fc00::1', 'fdff::1', 'fe80::1', 'febf::1', 'fec0::1', 'ff02::1', '::ffff:192.168.0.1', '::10.0.0.1']) {
    assert.notEqual(nonPublic(v6), null, v6);
  }
  for (const pub of ['52.1.2.3', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1']) {
    assert.equal(nonPublic(pub), null, pub);
  }
});

test('names pointing inside are refused; one bad address refuses the name', async () => {
  for (const ip of ['127.0.0.1', '10.0.0.5', '169.254.169.254', '::1', 'fd00:ec2::254', '::ffff:127.0.0.1']) {
    await assert.rejects(resolveChecked('api.example.com', { allowLoopback: true, pinned: { 'api.example.com': [ip] } }), (e) =>
      e.refused && e.message.includes(`resolves to ${ip}`));
  }
  const mixed = { 'mixed.example': ['52.1.2.3', '10.0.0.1'] };
  await assert.rejects(resolveChecked('MIXED.example.', { pinned: mixed }));
  const ok = await resolveChecked('public.example', { pinned: { 'public.example': ['52.1.2.3'] } });
  assert.deepEqual(ok, [{ address: '52.1.2.3', family: 4 }]);
});

test('localhost only with --allow-loopback', async () => {
  await assert.rejects(resolveChecked('localhost', { allowLoopback: false }));
  const ips = await resolveChecked('localhost.', { allowLoopback: true });
  assert.ok(ips.length > 0);
  // Any other name pointing at loopback is still refused.
  await assert.rejects(resolveChecked('evil.example', { allowLoopback: true, pinned: { 'evil.example': ['127.0.0.1'] } }));
  // 2130706433 is 127.0.0.1 to getaddrinfo: judged by address, not as a name.
  await assert.rejects(resolveChecked('2130706433', { allowLoopback: false }));
});

test('the declaration: fixed and templated origins', () => {
  const d = parseDeclaration(['https://na1.example.com', 'https://API.example.com:443/', 'https://{instance_url}']);
  let b = bind(d, { instance_url: 'https://Acme.example.org/' }, false);
  assert.deepEqual(b.origins, ['https://acme.example.org', 'https://api.example.com', 'https://na1.example.com']);
  assert.deepEqual(b.refused, []);
  b = bind(d, {}, false);
  assert.equal(b.origins.length, 2);
  for (const entry of ['http://na1.example.com', 'https://{}', 'https://{a b}', 'https://{x}.example.com', 'https://127.0.0.1',
    'https://10.0.0.1', 'https://na1.example.com/api', 'na1.example.com', 'https://na1.example.com?x', 42]) {
    assert.throws(() => parseDeclaration([entry]), undefined, String(entry));
  }
  assert.throws(() => parseDeclaration(undefined), /allowed_outbound_hosts/);
});

test('templated values must be public https', () => {
  const d = parseDeclaration(['https://{instance_url}']);
  for (const value of ['http://acme.example.org', 'https://2130706433:8443', 'https://127.1', 'https://169.254.169.254',
    'https://user:pw@acme.example.org', 'ftp://acme.example.org', 'https://0x7f.1', 'https://0177.0.0.1']) {
    const b = bind(d, { instance_url: value }, false);
    assert.deepEqual(b.origins, [], value);
    assert.equal(b.refused[0][0], 'instance_url', value);
  }
  assert.match(bind(d, { instance_url: ['https://a.example'] }, false).refused[0][1], /as text/);
  assert.deepEqual(bind(d, { instance_url: 'http://127.0.0.1:4010' }, true).origins, ['http://127.0.0.1:4010']);
  assert.deepEqual(bind(d, { instance_url: 'acme.example.org' }, false).origins, ['https://acme.example.org']);
});

test('the operator only narrows', () => {
  const d = parseDeclaration(['https://a.example.com', 'https://b.example.com']);
  const b = bind(d, {}, false, ['https://B.example.com:443', 'https://c.example.com']);
  assert.deepEqual(b.origins, ['https://b.example.com']);
});

test('the plan, token URL and authorization URL may only narrow', () => {
  const d = parseDeclaration(['https://na1.example.com', 'https://{instance_url}']);
  const b = bind(d, { instance_url: 'https://acme.example.org' }, false);
  assert.deepEqual(within(['https://NA1.example.com:443', 'https://acme.example.org/'], b, 'plan'), [
    'https://na1.example.com',
    'https://acme.example.org',
  ]);
  for (const outside of ['https://evil.example.com', 'http://na1.example.com', 'https://na1.example.com:8443', 'nonsense']) {
    assert.throws(() => within([outside], b, 'the token endpoint'), (e) =>
      e.payload.tag === 'invalid-config' && e.payload.val.field === undefined && e.message.includes('the token endpoint'));
  }
  // A refused templated value is named as the field at fault.
  const refused = bind(d, { instance_url: 'https://0x7f.1:8443' }, false);
  assert.throws(() => within(['https://127.0.0.1:8443'], refused, 'plan'), (e) =>
    e.payload.val.field === 'instance_url' && e.message.includes('loopback'));
});

test('secrets: text only, masked everywhere, never shown', () => {
  const schema = { properties: { client_secret: { 'x-secret': true }, client_id: {}, note: { 'x-secret': false } } };
  assert.deepEqual(secretFields(schema), ['client_secret']);
  for (const bad of [['s3cret-in-a-list'], { v: 's3cret-in-an-object' }, 1234567, true]) {
    assert.throws(() => formSecrets({ client_secret: bad }, ['client_secret']), (e) =>
      e.payload.val.field === 'client_secret' && !JSON.stringify(e.payload).includes('s3cret') && !e.message.includes('1234567'));
  }
  assert.deepEqual(formSecrets({ client_secret: '' }, ['client_secret']), []);
  const secret = 'hunter2-very-secret';
  const form = { client_secret: secret, client_id: `id-${secret}`, nested: [{ [secret]: `x${secret}y` }] };
  const guest = mask(form, formSecrets(form, ['client_secret']));
  assert.ok(!JSON.stringify(guest).includes(secret));
  assert.deepEqual(guest, { client_secret: '<secret>', client_id: 'id-<secret>', nested: [{ '<secret>': 'x<secret>y' }] });
  assert.equal(redact(`token=${secret};`, [secret, 'abc']), 'token=<redacted>;');
});
