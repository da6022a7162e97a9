// Every form of the studio: rjsf with the 2020-12 validator and the studio's fields.
import Form from '@rjsf/core';
import { useState } from 'react';
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
  // The browser's own findings, summed up next to the buttons; each is also shown at its
  // field (rjsf's list at the top would repeat them, and the server's).
  const [problems, setProblems] = useState([]);
  return (
    <RootData.Provider value={formData}>
      <Form
        schema={schema}
        validator={validator}
        fields={fields}
        templates={templates}
        formData={formData}
        onChange={(e) => onChange(e.formData)}
        onSubmit={(e) => {
          setProblems([]);
          onSubmit(e.formData);
        }}
        onError={setProblems}
        idPrefix={idPrefix}
        className={className === 'rjsf' ? 'rjsf' : `rjsf ${className}`}
        extraErrors={extraErrors}
        noValidate={noValidate || !canCompile}
        noHtml5Validate
        showErrorList={false}
        focusOnFirstError
        disabled={disabled}
        experimental_defaultFormStateBehavior={isInput ? INPUT_DEFAULTS : undefined}
      >
        {children}
        {problems.length > 0 && (
          <div className="text-danger" role="alert" data-testid="form-problems">
            Not sent: the browser found {problems.length} problem{problems.length === 1 ? '' : 's'} in the
            input, marked at the fields
            <ul>
              {problems.slice(0, 5).map((p, i) => (
                <li key={i}>{p.stack}</li>
              ))}
            </ul>
          </div>
        )}
      </Form>
    </RootData.Provider>
  );
}
