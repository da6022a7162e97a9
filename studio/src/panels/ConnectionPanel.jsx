// The connection form (from the manifest's connection_schema), presets and "Test connection".
import { useEffect, useRef } from 'react';
import { api } from '../api.js';
import { ErrorBox } from '../components/ErrorBox.jsx';
import { Trace } from '../components/Trace.jsx';
import { SchemaForm } from '../form/SchemaForm.jsx';
import { errorSchemaAt } from '../pointer.js';
import { withoutHidden } from '../schema.js';

function Identity({ ok }) {
  const { user, company, scopes } = ok;
  return (
    <section className="identity" aria-labelledby="identity-heading" data-testid="identity">
      <h3 id="identity-heading">Connected as</h3>
      <dl>
        <dt>User</dt>
        <dd>
          {!user?.name && !user?.email && !user?.id && '—'}
          {user?.name && <>{user.name} </>}
          {user?.email && <span data-testid="identity-email">&lt;{user.email}&gt;</span>}
          {user?.id && <span className="muted"> (id {user.id})</span>}
        </dd>
        <dt>Company</dt>
        <dd>
          {company?.name ?? '—'}
          {company?.id && <span className="muted"> (id {company.id})</span>}
        </dd>
        <dt>Scopes</dt>
        <dd>
          {scopes?.length ? (
            // A CLM token carries dozens: listed on demand.
            <details>
              <summary>
                {scopes.length} scope{scopes.length === 1 ? '' : 's'}
              </summary>
              <ul className="scopes">
                {scopes.map((s) => (
                  <li key={s}>
                    <code>{s}</code>
                  </li>
                ))}
              </ul>
            </details>
          ) : (
            '—'
          )}
        </dd>
      </dl>
    </section>
  );
}

/** `conn` = {form, preset, busy, result}; kept by the App so it survives switching panels. */
export function ConnectionPanel({ schema, presets, conn, setConn, onConnected }) {
  const resultRef = useRef(null);
  // The answer appears below the form's button: bring it into view.
  useEffect(() => {
    if (conn.result) resultRef.current?.scrollIntoView({ block: 'nearest' });
  }, [conn.result]);

  function choosePreset(id) {
    const preset = presets.find((p) => p.id === id);
    setConn((c) => ({
      ...c,
      preset: preset ? preset.id : null,
      form: preset ? structuredClone(preset.form) : {},
      result: null,
    }));
  }

  async function test(form) {
    setConn((c) => ({ ...c, busy: true }));
    // The preset's id lets the server put the real secrets back where "<secret>" stands.
    const sent = withoutHidden(schema, form);
    const answer = await api.connect(sent, conn.preset);
    setConn((c) => ({ ...c, busy: false, result: answer }));
    onConnected(answer.ok ? { ...answer.ok, api_type: sent.api_type } : null);
  }

  const error = conn.result?.error;
  // invalid_config names a connection property: show the message at that field.
  const fieldError =
    error?.kind === 'invalid_config' && error.field && schema.properties?.[error.field]
      ? errorSchemaAt(`/${error.field}`, error.message)
      : undefined;

  return (
    <section className="panel" aria-labelledby="connection-heading">
      <h2 id="connection-heading">Connection</h2>
      <div className="preset">
        <label htmlFor="preset">Preset</label>
        <select id="preset" value={conn.preset ?? ''} onChange={(e) => choosePreset(e.target.value)}>
          <option value="">None (fill the form)</option>
          {presets.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
        {conn.preset && (
          <span className="muted">
            Secrets show as <code>&lt;secret&gt;</code>: the server keeps them.
          </span>
        )}
      </div>
      <SchemaForm
        schema={schema}
        formData={conn.form}
        onChange={(form) => setConn((c) => ({ ...c, form }))}
        onSubmit={test}
        idPrefix="conn"
        className="connection-form"
        isInput={false}
        extraErrors={fieldError}
        disabled={conn.busy}
      >
        <div className="actions-row">
          <button type="submit" className="primary" disabled={conn.busy}>
            {conn.busy ? 'Testing…' : 'Test connection'}
          </button>
        </div>
      </SchemaForm>
      <div aria-live="polite" ref={resultRef} className="result">
        {conn.result?.ok && <Identity ok={conn.result.ok} />}
        {error && !fieldError && <ErrorBox error={error} title="Connection failed" />}
        {fieldError && (
          <p className="text-danger" role="alert">
            Connection refused: <code>{error.field}</code> — {error.message}
          </p>
        )}
      </div>
      <Trace trace={conn.result?.trace} />
    </section>
  );
}
