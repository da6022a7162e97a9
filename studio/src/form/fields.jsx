// rjsf's own fields, wrapped to honour our `x-` keywords (see schema.js) and to swap in the
// studio's pick lists and file picker. NumberField renders through StringField, so integer
// ids with `x-options` are covered too.
import { getDefaultRegistry } from '@rjsf/core';
import { getTemplate, getUiOptions } from '@rjsf/utils';
import { isFileSchema, objectUi, scalarUi } from '../schema.js';
import { FileField } from './FileField.jsx';
import { OptionsField } from './OptionsField.jsx';

const base = getDefaultRegistry().fields;

function ObjectField(props) {
  const { schema, uiSchema, formData, registry } = props;
  const resolved = registry.schemaUtils.retrieveSchema(schema, formData);
  if (isFileSchema(resolved)) return <FileField {...props} schema={resolved} />;
  return <base.ObjectField {...props} uiSchema={objectUi(resolved, uiSchema, formData)} />;
}

function StringField(props) {
  const { schema, uiSchema } = props;
  if (schema['x-options'] && getUiOptions(uiSchema).widget !== 'hidden') {
    return <OptionsField {...props} />;
  }
  return <base.StringField {...props} uiSchema={scalarUi(schema, uiSchema)} />;
}

export const fields = { ObjectField, StringField };

/** rjsf's FieldTemplate, with the required mark hidden from screen readers (the input
 * itself says it is required) so a label reads as its title. */
function FieldTemplate(props) {
  const { id, label, children, errors, help, description, hidden, required, displayLabel, registry, uiSchema } =
    props;
  if (hidden) return <div className="hidden">{children}</div>;
  const uiOptions = getUiOptions(uiSchema);
  const Wrap = getTemplate('WrapIfAdditionalTemplate', registry, uiOptions);
  const isCheckbox = uiOptions.widget === 'checkbox';
  return (
    <Wrap {...props}>
      {displayLabel && !isCheckbox && (
        <label className="control-label" htmlFor={id}>
          {label}
          {required && (
            <span className="required" aria-hidden="true">
              {' '}*
            </span>
          )}
        </label>
      )}
      {displayLabel && description ? description : null}
      {children}
      {errors}
      {help}
    </Wrap>
  );
}

export const templates = { FieldTemplate };
