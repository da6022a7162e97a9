// Secrets in a connection form: the values of top-level properties marked `x-secret`. They
// never reach the guest, which sees a placeholder wherever a secret value appears.
import { ConfigRefusal } from './egress.mjs';

/** What the guest sees in place of a secret value. */
export const SECRET_PLACEHOLDER = '<secret>';

/** Top-level connection-form properties marked `x-secret`. */
export function secretFields(schema) {
  return Object.entries(schema?.properties ?? {})
    .filter(([, p]) => p?.['x-secret'] === true)
    .map(([k]) => k);
}

const jsonType = (v) =>
  v === null ? 'null'
    : Array.isArray(v) ? 'a list'
      : typeof v === 'object' ? 'an object'
        : typeof v === 'boolean' ? 'a boolean'
          : typeof v === 'number' ? 'a number'
            : 'text';

/** The values of the secret fields that are filled in. A secret field holding anything but
 *  text is refused (ConfigRefusal on that field, the value not shown): the placeholder can
 *  only stand in for text, and a list or object would carry the secret to the guest. */
export function formSecrets(form, fields) {
  const secrets = [];
  for (const field of fields) {
    const v = form[field];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') {
      throw new ConfigRefusal(`must be text, got ${jsonType(v)} (the value is not shown: it is a secret)`, field);
    }
    secrets.push(v);
  }
  return secrets;
}

/** `value` with every secret inside its text (object keys included) replaced by the
 *  placeholder: in its own field, or pasted into another one. */
export function mask(value, secrets) {
  const masked = (text) => secrets.filter((s) => s !== '').reduce((acc, s) => acc.split(s).join(SECRET_PLACEHOLDER), text);
  if (typeof value === 'string') return masked(value);
  if (Array.isArray(value)) return value.map((v) => mask(v, secrets));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [masked(k), mask(v, secrets)]));
  }
  return value;
}

/** `text` with every secret of at least six characters replaced (host output: errors, stack
 *  traces). Shorter values would mask ordinary words. */
export function redact(text, secrets) {
  return secrets.filter((s) => typeof s === 'string' && s.length >= 6).reduce((acc, s) => acc.split(s).join('<redacted>'), text);
}
