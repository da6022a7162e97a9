// The Node host's egress policy: the same rules as the wasmtime host's policy.rs, egress.rs
// and resolver.rs (host-harness/host/src), on Node's own URL parser.
//
// Every URL is parsed once by WHATWG `new URL()` (the parser Node's HTTP stack is handed the
// result of), and judged by what that parser made of it: `https://2130706433/`,
// `https://0x7f.1/`, `https://127.1/` and `https://%31%32%37.0.0.1/` are 127.0.0.1 here as
// they are on the wire. Origins are compared in their canonical form (`url.origin`).
//
// What a connection may reach comes from the connector's package (`allowed_outbound_hosts`),
// bound to the connection form; the connector's plan may only narrow it.
import { isIPv4, isIPv6 } from 'node:net';
import dns from 'node:dns';

/** Responses above this are refused rather than buffered (http-error `too-large`). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Request bodies above this are refused before sending (http-error `invalid-request`). */
export const MAX_REQUEST_BYTES = 100 * 1024 * 1024;
/** One call may not make more requests than this. */
export const MAX_REQUESTS_PER_CALL = 2000;
/** A guest may ask for a shorter timeout, never a longer one. */
export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 120_000;

const LOOPBACK_HINT =
  'the host refuses it (start the host with --allow-loopback to reach a local emulator)';

/** A refusal of the connection before any request: printed as the connector's
 *  `invalid-config` error, `field` naming the form field at fault when there is one. */
export class ConfigRefusal extends Error {
  constructor(message, field) {
    super(message);
    this.payload = { tag: 'invalid-config', val: field === undefined ? { message } : { field, message } };
  }
}

/** A URL as an error message shows it: bounded, whatever the guest or the form sent. */
export function shown(text) {
  const MAX = 120;
  text = String(text);
  if (Buffer.byteLength(text) <= MAX) return text;
  let cut = '';
  for (const ch of text) {
    if (Buffer.byteLength(cut + ch) > MAX) break;
    cut += ch;
  }
  return `${cut}… (${Buffer.byteLength(text)} bytes)`;
}

function parse(url) {
  try {
    return new URL(url);
  } catch (e) {
    throw new Error(`\`${shown(url)}\` is not a valid URL: ${e.message}`);
  }
}

/** `scheme://host[:port]` of `url` as WHATWG writes it (lowercase, default port dropped,
 *  IPv4 dotted decimal, IPv6 compressed). Throws for unparseable and opaque origins. */
export function canonicalOrigin(url) {
  const parsed = parse(url);
  if (parsed.origin === 'null') throw new Error(`\`${shown(url)}\` has no origin`);
  return parsed.origin;
}

// ---------------------------------------------------------------------------------------
// Addresses

function v4Octets(text) {
  return text.split('.').map(Number);
}

function nonPublicV4([a, b, c]) {
  if (a === 0) return '"this network" (0.0.0.0/8)';
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 169 && b === 254) return 'link-local (cloud metadata)';
  if (a === 100 && b >= 64 && b <= 127) return 'shared carrier-grade NAT';
  if (a === 192 && b === 0 && c === 0) return 'IETF protocol assignment';
  if ((a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) {
    return 'documentation';
  }
  if (a === 198 && (b === 18 || b === 19)) return 'benchmarking';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved or broadcast';
  return null;
}

/** The eight 16-bit groups of an IPv6 address (`::`, embedded dotted IPv4 and a zone
 *  accepted). */
export function v6Segments(text) {
  let s = text.replace(/^\[|\]$/g, '').split('%')[0];
  let tail = [];
  const dotted = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const [a, b, c, d] = v4Octets(dotted[2]);
    tail = [(a << 8) | b, (c << 8) | d];
    s = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, null];
  const groups = (part) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const front = groups(head);
  const back = [...groups(rest), ...tail];
  const fill = rest === null && tail.length === 0 ? 0 : 8 - front.length - back.length;
  return [...front, ...new Array(Math.max(fill, 0)).fill(0), ...back];
}

function nonPublicV6(seg) {
  const embedded = (hi, lo) => nonPublicV4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (n) => seg.slice(0, n).every((g) => g === 0);
  if (seg.every((g) => g === 0)) return 'unspecified';
  if (zeros(7) && seg[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): an IPv4 address in disguise.
  if ((zeros(5) && seg[5] === 0xffff) || zeros(6)) return embedded(seg[6], seg[7]) ?? 'IPv4-in-IPv6';
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
  if (seg[0] === 0x64 && seg[1] === 0xff9b && seg.slice(2, 6).every((g) => g === 0)) return embedded(seg[6], seg[7]);
  if (seg[0] === 0x2002) return embedded(seg[1], seg[2]);
  if (seg[0] === 0x2001 && seg[1] === 0x0db8) return 'documentation';
  if (seg[0] === 0x0100 && seg.slice(1, 4).every((g) => g === 0)) return 'discard-only';
  if ((seg[0] & 0xfe00) === 0xfc00) return 'unique local (private)';
  if ((seg[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((seg[0] & 0xffc0) === 0xfec0) return 'site-local';
  if ((seg[0] & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/** Why `ip` (text, IPv4 or IPv6, brackets allowed) is not a public unicast address, or null
 *  when it is one. */
export function nonPublic(ip) {
  const bare = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return nonPublicV4(v4Octets(bare));
  if (isIPv6(bare.split('%')[0]) || bare.includes(':')) return nonPublicV6(v6Segments(bare));
  return 'unrecognised';
}

/** 127.0.0.0/8 and ::1: what `--allow-loopback` lets through (not IPv4-mapped loopback). */
export function isLoopback(ip) {
  const bare = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return v4Octets(bare)[0] === 127;
  const seg = v6Segments(bare);
  return seg.slice(0, 7).every((g) => g === 0) && seg[7] === 1;
}

/** An address as messages show it (as Rust's `IpAddr` prints it, so both hosts say the
 *  same): IPv6 without brackets, IPv4-mapped with its IPv4 dotted. */
export function displayIp(ip) {
  const bare = ip.replace(/^\[|\]$/g, '');
  if (isIPv4(bare)) return bare;
  const seg = v6Segments(bare);
  if (seg.slice(0, 5).every((g) => g === 0) && seg[5] === 0xffff) {
    return `::ffff:${seg[6] >> 8}.${seg[6] & 0xff}.${seg[7] >> 8}.${seg[7] & 0xff}`;
  }
  return bare;
}

function judgeIp(host, allowLoopback) {
  const ip = displayIp(host);
  const kind = nonPublic(ip);
  if (kind === null) return false;
  if (isLoopback(ip) && allowLoopback) return true;
  if (kind === 'loopback') throw new Error(`\`${ip}\` is a loopback address; ${LOOPBACK_HINT}`);
  throw new Error(`\`${ip}\` is a ${kind} address; the host refuses it`);
}

/** Everything but the origin allow-list: http(s), no credentials, and a host that is a
 *  public address or a name (names are judged after resolution, by `guardedLookup`),
 *  loopback only when allowed. The parsed URL. Throws Error(why). */
export function checkAddress(url, allowLoopback) {
  const parsed = parse(url);
  if (parsed.username !== '' || parsed.password !== '') throw new Error('URLs with credentials are not allowed');
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'https' && scheme !== 'http') throw new Error(`scheme \`${shown(scheme)}\` is not allowed`);
  const host = parsed.hostname;
  if (host === '') throw new Error(`\`${shown(url)}\` has no host`);
  let loopback;
  if (host.startsWith('[') || isIPv4(host)) {
    loopback = judgeIp(host, allowLoopback);
  } else {
    // `localhost.` is `localhost`: a trailing dot must not slip a name past the checks.
    const name = host.replace(/\.+$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) {
      if (!(allowLoopback && name === 'localhost')) {
        throw new Error(`\`${shown(name)}\` is a loopback name; ${LOOPBACK_HINT}`);
      }
      loopback = true;
    } else {
      loopback = false;
    }
  }
  if (scheme === 'http' && !loopback) throw new Error('plain http is refused; use https');
  return parsed;
}

/** The policy for requests: canonical origins, checked with `checkAddress`. */
export class EgressPolicy {
  constructor(origins, allowLoopback) {
    this.origins = [];
    for (const o of origins) {
      try {
        this.origins.push(canonicalOrigin(o));
      } catch {
        // An unparseable origin allows nothing.
      }
    }
    this.allowLoopback = allowLoopback;
  }

  /** The parsed URL to send, or throws Error(why). */
  check(url) {
    const parsed = checkAddress(url, this.allowLoopback);
    if (!this.origins.includes(parsed.origin)) {
      throw new Error(
        `\`${shown(parsed.origin)}\` is not a host this connection may reach (allowed: ${this.origins.join(', ')})`,
      );
    }
    return parsed;
  }
}

// ---------------------------------------------------------------------------------------
// Names

/** A name refused because of where it points (reported as http-error `denied`). */
export class RefusedAddress extends Error {
  constructor(host, ip, kind) {
    super(`\`${shown(host)}\` resolves to ${ip}, a ${kind} address; the host refuses it`);
    this.refused = true;
  }
}

const normalise = (host) => host.replace(/\.+$/, '').toLowerCase();

/** The addresses of `host`, every one public (or loopback for `localhost` when allowed);
 *  one address that is not refuses the whole name. `pinned` answers names without DNS
 *  (`--resolve NAME=IP`), still judged. Resolves to [{address, family}]. */
export async function resolveChecked(host, { allowLoopback = false, pinned = {} } = {}) {
  const name = normalise(host.replace(/^\[|\]$/g, ''));
  const addrs = pinned[name]
    ? pinned[name].map((address) => ({ address, family: isIPv6(address) ? 6 : 4 }))
    : await dns.promises.lookup(name, { all: true, verbatim: true });
  if (addrs.length === 0) throw new Error(`\`${shown(name)}\` does not resolve to any address`);
  const loopbackOk = allowLoopback && name === 'localhost';
  for (const { address } of addrs) {
    const kind = nonPublic(address);
    if (kind !== null && !(loopbackOk && isLoopback(address))) throw new RefusedAddress(name, address, kind);
  }
  return addrs;
}

/** A `lookup` for net/http/https: the socket connects only to addresses `resolveChecked`
 *  passed, so a name cannot be re-resolved to something else between check and connect. */
export function guardedLookup(settings) {
  return (hostname, options, callback) => {
    if (typeof options === 'function') [options, callback] = [{}, options];
    resolveChecked(hostname, settings).then(
      (addrs) => {
        const family = options?.family === 4 || options?.family === 6 ? options.family : 0;
        const usable = family ? addrs.filter((a) => a.family === family) : addrs;
        if (usable.length === 0) {
          callback(Object.assign(new Error(`\`${shown(hostname)}\` has no IPv${family} address`), { code: 'ENOTFOUND' }));
        } else if (options?.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0].address, usable[0].family);
        }
      },
      (e) => callback(e),
    );
  };
}

// ---------------------------------------------------------------------------------------
// The package's declaration

/** `allowed_outbound_hosts` entries: `https://host[:port]` (fixed) or `https://{field}`
 *  (the origin of that connection field's value). Throws Error on a bad entry. */
export function parseDeclaration(entries) {
  if (!Array.isArray(entries)) throw new Error('`allowed_outbound_hosts` must list what the connector may reach');
  return entries.map((entry) => {
    if (typeof entry !== 'string') throw new Error('`allowed_outbound_hosts` entries must be text');
    const bad = (why) => new Error(`allowed_outbound_hosts entry \`${entry}\`: ${why}`);
    if (entry.startsWith('https://{')) {
      if (!entry.endsWith('}')) throw bad('a template is `https://{field}` and nothing else');
      const field = entry.slice('https://{'.length, -1);
      if (!/^[A-Za-z0-9_-]+$/.test(field)) throw bad('the field name must be letters, digits, `_` or `-`');
      return { field };
    }
    if (!entry.startsWith('https://')) throw bad('only https origins may be declared');
    let parsed;
    try {
      parsed = new URL(entry);
    } catch (e) {
      throw bad(e.message);
    }
    if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '' || entry.includes('?') || entry.includes('#')) {
      throw bad('an origin has no path, query or fragment');
    }
    try {
      checkAddress(parsed.origin, false);
    } catch (e) {
      throw bad(e.message);
    }
    return { origin: parsed.origin };
  });
}

/** The origin a templated field's value allows: an https URL (or a bare host, read as
 *  https) of a public host; http and loopback only when loopback is allowed. */
function bindValue(value, allowLoopback) {
  const trimmed = value.trim();
  const url = trimmed.includes('://') ? trimmed : `https://${trimmed}`;
  try {
    return checkAddress(url, allowLoopback).origin;
  } catch (e) {
    throw new Error(`\`${shown(trimmed)}\` cannot be reached: ${e.message}`);
  }
}

/** What a connection with `form` may reach under `declaration`: `{origins, refused}`,
 *  `refused` listing `[field, why]` for templated fields whose values were refused.
 *  `operatorOrigins` (`--allow-origin`), when given, narrows the origins further. */
export function bind(declaration, form, allowLoopback, operatorOrigins) {
  const origins = new Set();
  const refused = [];
  for (const host of declaration) {
    if (host.origin) {
      origins.add(host.origin);
      continue;
    }
    const value = form[host.field];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) continue;
    if (typeof value !== 'string') {
      refused.push([host.field, 'must be a URL, as text']);
      continue;
    }
    try {
      origins.add(bindValue(value, allowLoopback));
    } catch (e) {
      refused.push([host.field, e.message]);
    }
  }
  let list = [...origins].sort();
  if (operatorOrigins) {
    const operator = operatorOrigins.flatMap((o) => {
      try {
        return [canonicalOrigin(o)];
      } catch {
        return [];
      }
    });
    list = list.filter((o) => operator.includes(o));
  }
  return { origins: list, refused };
}

/** The canonical origins of `urls` when every one is among `bound.origins`; otherwise a
 *  ConfigRefusal naming the templated field whose value could not be allowed. */
export function within(urls, bound, what) {
  return urls.map((url) => {
    let origin = null;
    try {
      origin = canonicalOrigin(url);
    } catch {
      // Unparseable: never allowed.
    }
    if (origin !== null && bound.origins.includes(origin)) return origin;
    const why = bound.refused.map(([field, reason]) => `${field}: ${reason}`);
    const allowed = bound.origins.length ? bound.origins.join(', ') : 'none';
    throw new ConfigRefusal(
      `${what} \`${shown(origin ?? url)}\`, which the connector's package does not allow for this connection ` +
        `(allowed: ${allowed})${why.length ? `; ${why.join('; ')}` : ''}`,
      bound.refused[0]?.[0],
    );
  });
}
