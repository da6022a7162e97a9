// Our `x-` keywords, translated into what rjsf understands (uiSchema), field by field at
// render time: the fields in form/fields.jsx call these with the schema rjsf resolved for
// the current data, so the hints work at any depth (inside arrays, anyOf, dynamic schemas)
// without a separate walk of the whole schema.

/** Whether one `x-visible-if` condition (`{prop: [values]}`) holds for `data`; an unset
 * property counts as its `default`. */
function conditionHolds(condition, data, properties) {
  return Object.entries(condition).every(([prop, allowed]) => {
    const value = data?.[prop] ?? properties?.[prop]?.default;
    return allowed.some((a) => a === value);
  });
}

/** `x-visible-if`: an object (every named property holds one of its values) or a list of
 * such objects (one must hold). */
export function isVisible(propSchema, data, properties) {
  const rule = propSchema?.['x-visible-if'];
  if (!rule) return true;
  const conditions = Array.isArray(rule) ? rule : [rule];
  return conditions.some((c) => conditionHolds(c, data, properties));
}

/** The uiSchema for an object field: `x-order` as `ui:order`, invisible properties hidden. */
export function objectUi(schema, uiSchema = {}, data) {
  const properties = schema.properties ?? {};
  const names = Object.keys(properties);
  const ui = { ...uiSchema };
  if (names.some((n) => properties[n]?.['x-order'] != null) && !uiSchema['ui:order']) {
    const rank = (n) => properties[n]?.['x-order'] ?? Number.MAX_SAFE_INTEGER;
    // Array.prototype.sort is stable, so unordered properties keep their schema order.
    ui['ui:order'] = [...names].sort((a, b) => rank(a) - rank(b)).concat('*');
  }
  for (const name of names) {
    if (!isVisible(properties[name], data, properties)) {
      ui[name] = { ...uiSchema[name], 'ui:widget': 'hidden' };
    }
  }
  return ui;
}

/** The uiSchema for a string or number field: `x-enum-labels`, `x-secret`. */
export function scalarUi(schema, uiSchema = {}) {
  const ui = { ...uiSchema };
  if (Array.isArray(schema['x-enum-labels']) && !ui['ui:enumNames']) {
    ui['ui:enumNames'] = schema['x-enum-labels'];
  }
  if (schema['x-secret'] && !ui['ui:widget']) ui['ui:widget'] = 'password';
  return ui;
}

/** A file in a connector schema: `{file_name, content_type?, content_base64}`. */
export function isFileSchema(schema) {
  const props = schema?.properties;
  return schema?.type === 'object' && props?.content_base64?.type === 'string' && !!props?.file_name;
}

/** The form data without the properties that `x-visible-if` hides: the connector refuses,
 * for example, a client secret sent with a Clickwrap access token. */
export function withoutHidden(schema, data) {
  if (!data || typeof data !== 'object' || !schema?.properties) return data;
  const out = {};
  for (const [name, value] of Object.entries(data)) {
    const prop = schema.properties[name];
    if (prop && !isVisible(prop, data, schema.properties)) continue;
    out[name] = value;
  }
  return out;
}

/** Whether the input property at `pointer` is required all the way down from the root. */
export function isRequiredAt(schema, pointerTokens) {
  let at = schema;
  for (const token of pointerTokens) {
    if (!at?.properties?.[token] || !(at.required ?? []).includes(token)) return false;
    at = at.properties[token];
  }
  return pointerTokens.length > 0;
}

/** `schema` with its properties (at every depth) in the order `like` has them, the others
 * after: a dynamic schema comes back with its keys sorted, and the static one's order (the
 * template before its attributes) reads better. */
export function orderLike(schema, like) {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema) || !like || typeof like !== 'object') {
    return schema;
  }
  const out = { ...schema };
  if (schema.properties && like.properties) {
    const keys = Object.keys(schema.properties);
    const first = Object.keys(like.properties).filter((k) => k in schema.properties);
    const ordered = [...first, ...keys.filter((k) => !first.includes(k))];
    out.properties = Object.fromEntries(
      ordered.map((k) => [k, orderLike(schema.properties[k], like.properties[k])]),
    );
  }
  if (schema.items && like.items) out.items = orderLike(schema.items, like.items);
  return out;
}
