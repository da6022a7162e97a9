// The connector's schemas are JSON Schema 2020-12; rjsf's default ajv is draft-07.
// rjsf's ajv config already has `strict: false`, so our `x-` keywords are ignored by ajv.
import { customizeValidator } from '@rjsf/validator-ajv8';
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

// Without compiling, every check would fail after a logged CSP violation; answer at once
// instead. The forms still work: the connector's own checks answer, if/then required marks
// and anyOf/oneOf guesses from the data are what is lost.
const inert = Object.assign(Object.create(ajv), {
  isValid: () => false,
  validateFormData: () => ({ errors: [], errorSchema: {} }),
  rawValidation: () => ({ errors: undefined, validationError: undefined }),
});

export const validator = canCompile ? ajv : inert;
