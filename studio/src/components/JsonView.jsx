// Collapsible JSON: objects and arrays are <details>, so the browser gives keyboard and
// screen-reader support for free.
const isContainer = (v) => v !== null && typeof v === 'object';

function Scalar({ value }) {
  let text = JSON.stringify(value);
  // base64 file content and similar walls of text would drown the rest.
  if (typeof value === 'string' && text.length > 200) {
    text = `${text.slice(0, 160)}…" (${value.length} characters)`;
  }
  return <span className={`json-${value === null ? 'null' : typeof value}`}>{text}</span>;
}

/** `open`: how many levels start expanded. */
export function JsonView({ value, name, depth = 0, open = 2 }) {
  if (!isContainer(value)) {
    return (
      <span className="json">
        {name !== undefined && <span className="json-key">{name}: </span>}
        <Scalar value={value} />
      </span>
    );
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  const shape = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <details className="json" open={depth < open}>
      <summary>
        {name !== undefined && <span className="json-key">{name}: </span>}
        <span className="json-shape">{shape}</span>
      </summary>
      <ul>
        {entries.map(([k, v]) => (
          <li key={k}>
            <JsonView value={v} name={k} depth={depth + 1} open={open} />
          </li>
        ))}
      </ul>
    </details>
  );
}

/** Every `{file_name, content_base64}` object inside `value`, with where it was found. */
export function findFiles(value, at = '', found = []) {
  if (!isContainer(value)) return found;
  if (typeof value.file_name === 'string' && typeof value.content_base64 === 'string') {
    found.push({ at: at || '/', file: value });
  }
  for (const [k, v] of Object.entries(value)) findFiles(v, `${at}/${k}`, found);
  return found;
}

export function Downloads({ value }) {
  const files = findFiles(value);
  if (files.length === 0) return null;
  return (
    <ul className="downloads" aria-label="Files in the output">
      {files.map(({ at, file }) => (
        <li key={at}>
          <a
            href={`data:${file.content_type || 'application/octet-stream'};base64,${file.content_base64}`}
            download={file.file_name}
          >
            Download {file.file_name}
          </a>{' '}
          <code>{at}</code>
        </li>
      ))}
    </ul>
  );
}
