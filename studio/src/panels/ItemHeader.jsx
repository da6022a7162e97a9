// What the catalog says of an action or trigger, at the top of its panel.
export function ItemHeader({ item, kind }) {
  const hints = item.hints ?? {};
  return (
    <header className="item-header">
      <h2 id="item-heading">{item.title || item.key}</h2>
      <p className="muted">
        {kind} <code>{item.key}</code> · API type <code>{item.api_type}</code>
        {item.operation && (
          <>
            {' '}
            · Ironclad operation <code>{item.operation}</code>
          </>
        )}
      </p>
      {item.description && <p className="description">{item.description}</p>}
      <dl className="facts">
        <dt>Scopes</dt>
        <dd>{item.scopes?.length ? item.scopes.map((s) => <code key={s}>{s} </code>) : 'none'}</dd>
        {kind === 'action' && (
          <>
            <dt>Hints</dt>
            <dd>
              read-only: {hints.read_only ? 'yes' : 'no'} · destructive: {hints.destructive ? 'yes' : 'no'} ·
              idempotent: {hints.idempotent ? 'yes' : 'no'}
            </dd>
          </>
        )}
        {kind === 'trigger' && (
          <>
            <dt>Modes</dt>
            <dd>{(item.modes ?? []).join(', ')}</dd>
          </>
        )}
      </dl>
    </header>
  );
}
