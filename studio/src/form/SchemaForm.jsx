// Every form of the studio: rjsf with the 2020-12 validator and the studio's fields.
import Form from '@rjsf/core';
import { RootData } from './context.js';
import { fields, templates } from './fields.jsx';
import { canCompile, validator } from './validator.js';

// Inputs hold what the user gave and little more: defaults only where a value is required.
// A default the form made up can be refused: Ironclad's optional `creator` (a oneOf) would
// otherwise arrive as `{"type": "email"}`, which its own schema forbids.
const INPUT_DEFAULTS = { emptyObjectFields: 'populateRequiredDefaults' };

export function SchemaForm({
  schema,
  formData,
  onChange,
  onSubmit,
  idPrefix,
  extraErrors,
  noValidate = false,
  disabled = false,
  className = 'rjsf',
  // false for the connection form: its defaults (API type, grant type…) are meant to show.
  isInput = true,
  children,
}) {
  return (
    <RootData.Provider value={formData}>
      <Form
        schema={schema}
        validator={validator}
        fields={fields}
        templates={templates}
        formData={formData}
        onChange={(e) => onChange(e.formData)}
        onSubmit={(e) => onSubmit(e.formData)}
        idPrefix={idPrefix}
        className={className === 'rjsf' ? 'rjsf' : `rjsf ${className}`}
        extraErrors={extraErrors}
        noValidate={noValidate || !canCompile}
        noHtml5Validate
        showErrorList="top"
        focusOnFirstError
        disabled={disabled}
        experimental_defaultFormStateBehavior={isInput ? INPUT_DEFAULTS : undefined}
      >
        {children}
      </Form>
    </RootData.Provider>
  );
}
