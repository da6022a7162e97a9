// The left column: the connection entry, then actions by group and triggers, filtered by
// API type and by a search over key, title and description.

const TRIGGERS = 'Triggers';

function Hints({ hints }) {
  if (!hints) return null;
  return (
    <span className="hints">
      {hints.read_only && <span className="badge read-only">read-only</span>}
      {hints.destructive && <span className="badge destructive">destructive</span>}
      {hints.idempotent && <span className="badge idempotent">idempotent</span>}
    </span>
  );
}

function Entry({ item, kind, selected, onSelect }) {
  const current = selected?.kind === kind && selected.key === item.key;
  return (
    <li>
      <button
        type="button"
        className="entry"
        aria-current={current ? 'true' : undefined}
        onClick={() => onSelect({ kind, key: item.key })}
        data-testid={`entry-${item.key}`}
      >
        <span className="entry-title">
          {item.title || item.key}
          <Hints hints={item.hints} />
          {kind === 'trigger' && <span className="badge">{(item.modes ?? []).join(' + ')}</span>}
        </span>
        <code className="entry-key">{item.key}</code>
        {item.description && <span className="entry-description">{item.description}</span>}
        <span className="entry-meta">
          {item.operation && (
            <>
              <span className="visually-hidden">Operation </span>
              <code>{item.operation}</code>
            </>
          )}
          {item.scopes?.length > 0 && <span> · scopes: {item.scopes.join(' ')}</span>}
        </span>
      </button>
    </li>
  );
}

export function matches(item, query) {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return [item.key, item.title, item.description].some((t) => t?.toLowerCase().includes(q));
}

export function Catalog({ manifest, apiTypes, apiType, setApiType, query, setQuery, selected, onSelect }) {
  const inType = (item) => apiType === 'all' || item.api_type === apiType;
  const actions = manifest.actions.filter((a) => inType(a) && matches(a, query));
  const triggers = manifest.triggers.filter((t) => inType(t) && matches(t, query));
  const groups = new Map();
  for (const a of actions) {
    const g = a.group || 'Other';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(a);
  }
  const count = actions.length + triggers.length;

  return (
    <nav className="catalog" aria-labelledby="catalog-heading">
      <h2 id="catalog-heading">Catalog</h2>
      <div className="catalog-filters">
        <label htmlFor="catalog-search">Search</label>
        <input
          id="catalog-search"
          type="search"
          placeholder="key, title or description"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-describedby="catalog-count"
        />
        <label htmlFor="catalog-api-type">API type</label>
        <select id="catalog-api-type" value={apiType} onChange={(e) => setApiType(e.target.value)}>
          {apiTypes.map(({ value, label }) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
          <option value="all">All API types</option>
        </select>
        <p id="catalog-count" className="muted" role="status">
          {count} of {manifest.actions.length + manifest.triggers.length} shown
        </p>
      </div>
      <div className="catalog-list">
        {[...groups].map(([group, items]) => (
          <section key={group}>
            <h3>{group}</h3>
            <ul>
              {items.map((a) => (
                <Entry key={a.key} item={a} kind="action" selected={selected} onSelect={onSelect} />
              ))}
            </ul>
          </section>
        ))}
        {triggers.length > 0 && (
          <section>
            <h3>{TRIGGERS}</h3>
            <ul>
              {triggers.map((t) => (
                <Entry key={t.key} item={t} kind="trigger" selected={selected} onSelect={onSelect} />
              ))}
            </ul>
          </section>
        )}
        {count === 0 && <p className="muted">Nothing matches.</p>}
      </div>
    </nav>
  );
}
