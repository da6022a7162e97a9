// Run one action: its input form (re-fetched when it depends on the input), the output and
// the HTTP trace.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api.js';
import { ErrorBox } from '../components/ErrorBox.jsx';
import { Downloads, JsonView } from '../components/JsonView.jsx';
import { Trace } from '../components/Trace.jsx';
import { SchemaForm } from '../form/SchemaForm.jsx';
import { canCompile } from '../form/validator.js';
import { errorSchemaAt, fieldId, get } from '../pointer.js';
import { orderLike } from '../schema.js';
import { ItemHeader } from './ItemHeader.jsx';

const ID_PREFIX = 'input';

/** The concrete input schema of `action` for `input`: asked for once when the action opens
 * and whenever a value its `x-schema-depends-on` names changes. */
function useDynamicSchema(action, input) {
  const [state, setState] = useState({ schema: action.input_schema, error: null, loading: false });
  const depends = action.input_schema['x-schema-depends-on'];
  const seen = Array.isArray(depends) ? JSON.stringify(depends.map((p) => get(input, p) ?? null)) : null;
  const latest = useRef(input);
  latest.current = input;

  useEffect(() => {
    if (seen === null) return undefined;
    let stale = false;
    // A short pause so typing in a depended-on text field asks once, not per keystroke.
    const timer = setTimeout(async () => {
      setState((s) => ({ ...s, loading: true }));
      const answer = await api.schema(action.key, latest.current ?? {});
      if (stale) return;
      setState((s) =>
        answer.ok
          ? { schema: orderLike(answer.ok.input_schema, action.input_schema), error: null, loading: false }
          : { ...s, error: answer.error, loading: false },
      );
    }, 250);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [action.key, seen]);

  return state;
}

export function ActionPanel({ action, drafts, connected }) {
  const [input, setInput] = useState(() => drafts.get(action.key) ?? {});
  const [validate, setValidate] = useState(canCompile);
  const [run, setRun] = useState({ busy: false, answer: null, sent: null });
  const dynamic = useDynamicSchema(action, input);

  useEffect(() => {
    drafts.set(action.key, input);
  }, [action.key, input, drafts]);

  const error = run.answer?.error;
  // The connector names the refused place as a JSON Pointer into the input; the highlight
  // stays until that input changes.
  const fieldError =
    error?.kind === 'invalid_input' && error.field != null && JSON.stringify(input) === run.sent
      ? errorSchemaAt(error.field, error.message)
      : undefined;

  const resultRef = useRef(null);
  // A refused field gets the focus (it is highlighted); any other answer is brought into view.
  useEffect(() => {
    if (!run.answer) return;
    const field = run.answer.error?.kind === 'invalid_input' && run.answer.error.field;
    const el = field && document.getElementById(fieldId(ID_PREFIX, field));
    if (el) el.focus();
    else resultRef.current?.scrollIntoView({ block: 'start' });
  }, [run.answer]);

  async function submit(data) {
    const sent = JSON.stringify(data ?? {});
    // What rjsf submits can hold defaults it never reported through onChange; keep the two
    // the same so the refused field's highlight (tied to this input) shows.
    setInput(data ?? {});
    setRun({ busy: true, answer: null, sent });
    const answer = await api.run(action.key, data ?? {});
    setRun({ busy: false, answer, sent });
  }

  return (
    <section className="panel" aria-labelledby="item-heading" data-testid="action-panel">
      <ItemHeader item={action} kind="action" />
      {!connected && (
        <p className="note">Not connected yet: test a connection first, or the run will be refused.</p>
      )}
      <section aria-labelledby="input-heading">
        <h3 id="input-heading">Input</h3>
        {dynamic.loading && (
          <p className="muted" role="status">
            Updating the form for this input…
          </p>
        )}
        {dynamic.error && <ErrorBox error={dynamic.error} title="Could not update the form" />}
        <SchemaForm
          schema={dynamic.schema}
          formData={input}
          onChange={setInput}
          onSubmit={submit}
          idPrefix={ID_PREFIX}
          extraErrors={fieldError}
          noValidate={!validate}
        >
          <div className="actions-row">
            <button type="submit" className="primary" disabled={run.busy}>
              {run.busy ? 'Running…' : 'Run action'}
            </button>
            {canCompile ? (
              <label className="inline">
                <input
                  type="checkbox"
                  checked={validate}
                  onChange={(e) => setValidate(e.target.checked)}
                />
                Check the input in the browser first
              </label>
            ) : (
              // The studio's Content-Security-Policy lets no page code be generated (a hostile
              // connector's schemas must not become script), so the connector is the checker.
              <span className="muted">The connector checks the input when it runs.</span>
            )}
          </div>
        </SchemaForm>
      </section>
      <div aria-live="polite" ref={resultRef} className="result">
        {error && !fieldError && <ErrorBox error={error} title="The action failed" />}
        {fieldError && (
          <p className="text-danger" role="alert" data-testid="field-error">
            The connector refused <code>{error.field}</code>: {error.message}
          </p>
        )}
        {run.answer && 'ok' in run.answer && (
          <section className="output" aria-labelledby="output-heading" data-testid="output">
            <h3 id="output-heading">Output</h3>
            <Downloads value={run.answer.ok} />
            <JsonView value={run.answer.ok} name="output" open={1} />
          </section>
        )}
      </div>
      <Trace trace={run.answer?.trace} />
    </section>
  );
}
