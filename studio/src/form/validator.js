// The connector's schemas are JSON Schema 2020-12; rjsf's default ajv is draft-07.
// rjsf's ajv config already has `strict: false`, so our `x-` keywords are ignored by ajv.
import { customizeValidator } from '@rjsf/validator-ajv8';
import { deepEquals } from '@rjsf/utils';
import Ajv2020 from 'ajv/dist/2020.js';

/** Whether ajv can compile schemas here: it generates code, which a Content-Security-Policy
 * without 'unsafe-eval' forbids. */
export const canCompile = (() => {
  try {
    return new Function('return true')();
  } catch {
    return false;
  }
})();

const ajv = customizeValidator({
  AjvClass: Ajv2020,
  // The connector's own format for webhook targets; it checks them itself (which hosts and
  // schemes are allowed depends on the host), so the browser accepts any text.
  customFormats: { 'https-url': () => true },
});

const TYPES = {
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: Number.isInteger,
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
};

/** Whether `value` matches `schema`, for the keywords rjsf's decisions hang on (an `if`
 * condition, which oneOf option the data is): type, const, enum, required, properties and
 * the combinators. Anything else counts as matching. */
export function roughlyMatches(schema, value) {
  if (schema === true || schema == null) return true;
  if (schema === false) return false;
  if ('const' in schema && !deepEquals(schema.const, value)) return false;
  if (schema.enum && !schema.enum.some((e) => deepEquals(e, value))) return false;
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => TYPES[t]?.(value) ?? true)) return false;
  }
  if (TYPES.object(value)) {
    if ((schema.required ?? []).some((name) => !(name in value))) return false;
    const props = Object.entries(schema.properties ?? {});
    if (props.some(([name, s]) => name in value && !roughlyMatches(s, value[name]))) return false;
  }
  if (schema.allOf && !schema.allOf.every((s) => roughlyMatches(s, value))) return false;
  if (schema.anyOf && !schema.anyOf.some((s) => roughlyMatches(s, value))) return false;
  if (schema.oneOf && schema.oneOf.filter((s) => roughlyMatches(s, value)).length !== 1) return false;
  if (schema.not && roughlyMatches(schema.not, value)) return false;
  return true;
}

// Without compiling, every check would fail after a logged CSP violation. Instead: no checks
// in the browser (the connector's own answer), and rjsf's decisions (if/then required marks,
// the oneOf option that fits the data) from the rough matcher above.
const inert = Object.assign(Object.create(ajv), {
  isValid: (schema, formData) => roughlyMatches(schema, formData),
  validateFormData: () => ({ errors: [], errorSchema: {} }),
  rawValidation: () => ({ errors: undefined, validationError: undefined }),
});

export const validator = canCompile ? ajv : inert;
