// A connector file, `{file_name, content_type?, content_base64}`, chosen with a file picker
// instead of three text boxes.
import { useState } from 'react';

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result); // data:<type>;base64,<data>
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function FileField(props) {
  const { schema, formData, onChange, fieldPathId, required, disabled, readonly, name, rawErrors } =
    props;
  const [problem, setProblem] = useState(null);
  // The native picker keeps showing a cleared file's name; a new key gives a fresh one.
  const [generation, setGeneration] = useState(0);
  const id = fieldPathId.$id;
  const title = props.title ?? schema.title ?? name;

  async function choose(event) {
    const file = event.target.files?.[0];
    setProblem(null);
    if (!file) return onChange(undefined, fieldPathId.path);
    try {
      const content_base64 = await readAsBase64(file);
      const value = { file_name: file.name, content_base64 };
      if (schema.properties.content_type) value.content_type = file.type || 'application/octet-stream';
      onChange(value, fieldPathId.path);
    } catch (e) {
      setProblem(`Could not read ${file.name}: ${e.message}`);
    }
  }

  const size = formData?.content_base64 ? Math.floor((formData.content_base64.length * 3) / 4) : 0;
  return (
    <div className={`file-field${rawErrors?.length ? ' has-error' : ''}`}>
      <label htmlFor={id} className="control-label">
        {title}
        {required && <span className="required" aria-hidden="true"> *</span>}
      </label>
      {schema.description && (
        <div className="field-description" id={`${id}__description`}>
          {schema.description}
        </div>
      )}
      <input
        key={generation}
        type="file"
        id={id}
        onChange={choose}
        disabled={disabled || readonly}
        required={required}
        aria-describedby={schema.description ? `${id}__description` : undefined}
      />
      {formData?.file_name && (
        <p className="file-chosen">
          {formData.file_name}
          {formData.content_type ? ` (${formData.content_type}, ` : ' ('}~{size} bytes)
          <button
            type="button"
            className="link"
            onClick={() => {
              onChange(undefined, fieldPathId.path);
              setGeneration((g) => g + 1);
            }}
          >
            Clear
          </button>
        </p>
      )}
      {problem && <p className="text-danger">{problem}</p>}
    </div>
  );
}
