// JSON Pointers (RFC 6901): how the connector names a place in an input, both in
// `x-options` params (`{"$input": "/body/template"}`) and in `invalid_input` errors.

export function parse(pointer) {
  if (!pointer) return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function get(value, pointer) {
  let at = value;
  for (const token of parse(pointer)) {
    if (at == null || typeof at !== 'object') return undefined;
    at = at[token];
  }
  return at;
}

/** An rjsf error schema with `message` at `pointer`, for the Form's `extraErrors`. */
export function errorSchemaAt(pointer, message) {
  const root = {};
  let at = root;
  for (const token of parse(pointer)) {
    at[token] = {};
    at = at[token];
  }
  at.__errors = [message];
  return root;
}

/** The element id rjsf gives the field at `pointer` (idPrefix, then the path joined by `_`). */
export function fieldId(idPrefix, pointer) {
  return [idPrefix, ...parse(pointer)].join('_');
}
