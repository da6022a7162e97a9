// The page: a header with the connection state, the catalog on the left, and the selected
// panel (connection, action or trigger) on the right.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, hasToken } from './api.js';
import { ErrorBox } from './components/ErrorBox.jsx';
import { ActionPanel } from './panels/ActionPanel.jsx';
import { Catalog } from './panels/Catalog.jsx';
import { ConnectionPanel } from './panels/ConnectionPanel.jsx';
import { TriggerPanel } from './panels/TriggerPanel.jsx';

const CONNECTION = { kind: 'connection' };

/** Whom a tested connection acts as, in a few words (Clickwrap knows only the company). */
function who({ user, company, api_type }) {
  return user?.email ?? user?.name ?? user?.id ?? company?.name ?? (company?.id && `company ${company.id}`) ?? api_type;
}

/** The API types of the connection form, with their labels, for the catalog's filter. */
function apiTypesOf(schema) {
  const prop = schema?.properties?.api_type;
  return (prop?.enum ?? []).map((value, i) => ({ value, label: prop['x-enum-labels']?.[i] ?? value }));
}

export function App() {
  const [boot, setBoot] = useState({ manifest: null, presets: [], error: null });
  const [conn, setConn] = useState({ form: {}, preset: null, busy: false, result: null });
  const [connected, setConnected] = useState(null);
  const [selected, setSelected] = useState(CONNECTION);
  const [query, setQuery] = useState('');
  const [apiType, setApiType] = useState(null);
  // Inputs typed per action or trigger, so switching back and forth keeps them.
  const drafts = useRef(new Map()).current;

  useEffect(() => {
    (async () => {
      const [manifest, presets] = await Promise.all([api.manifest(), api.presets()]);
      if (manifest.error) return setBoot({ manifest: null, presets: [], error: manifest.error });
      setBoot({ manifest, presets: presets.presets ?? [], error: presets.error ?? null });
    })();
  }, []);

  const apiTypes = useMemo(() => apiTypesOf(boot.manifest?.connection_schema), [boot.manifest]);
  // The catalog follows the connection's API type (the form's until one is tested) unless
  // the user picks another.
  const formApiType =
    connected?.api_type ?? conn.form?.api_type ?? boot.manifest?.connection_schema?.properties?.api_type?.default;
  useEffect(() => {
    if (formApiType) setApiType(formApiType);
  }, [formApiType]);

  if (boot.error && !boot.manifest) {
    return (
      <main className="boot">
        <h1>Connector studio</h1>
        {!hasToken && <p>This page needs the token from the URL that `connector-harness studio` printed.</p>}
        <ErrorBox error={boot.error} title="Could not load the connector" />
      </main>
    );
  }
  if (!boot.manifest) {
    return (
      <main className="boot">
        <h1>Connector studio</h1>
        <p role="status">Loading the connector…</p>
      </main>
    );
  }

  const { manifest } = boot;
  const action = selected.kind === 'action' && manifest.actions.find((a) => a.key === selected.key);
  const trigger = selected.kind === 'trigger' && manifest.triggers.find((t) => t.key === selected.key);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to the main panel
      </a>
      <header className="topbar">
        <h1>
          Connector studio <span className="muted">· {manifest.name}</span>{' '}
          <span className="version">{manifest.version}</span>
        </h1>
        <button
          type="button"
          className="connection-status"
          aria-current={selected.kind === 'connection' ? 'page' : undefined}
          onClick={() => setSelected(CONNECTION)}
        >
          {connected ? (
            <>
              <span className="dot ok" aria-hidden="true" /> Connected
              {who(connected) && <> as {who(connected)}</>}
            </>
          ) : (
            <>
              <span className="dot" aria-hidden="true" /> Not connected
            </>
          )}
          <span className="muted"> · Connection settings</span>
        </button>
      </header>
      {boot.error && <ErrorBox error={boot.error} title="Presets unavailable" />}
      <div className="layout">
        <Catalog
          manifest={manifest}
          apiTypes={apiTypes}
          apiType={apiType ?? 'all'}
          setApiType={setApiType}
          query={query}
          setQuery={setQuery}
          selected={selected}
          onSelect={setSelected}
        />
        <main className="main" id="main" tabIndex={-1}>
          {action ? (
            <ActionPanel key={`a:${action.key}`} action={action} drafts={drafts} connected={!!connected} />
          ) : trigger ? (
            <TriggerPanel key={`t:${trigger.key}`} trigger={trigger} drafts={drafts} connected={!!connected} />
          ) : (
            <ConnectionPanel
              schema={manifest.connection_schema}
              presets={boot.presets}
              conn={conn}
              setConn={setConn}
              onConnected={setConnected}
            />
          )}
        </main>
      </div>
    </div>
  );
}
