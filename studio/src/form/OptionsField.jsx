// A property with `"x-options": {provider, params, join?}`: a pick list loaded page by page
// from POST /api/options/{provider}, filtered by typing. With `join` the string holds
// several values separated by it, so the list allows several choices.
import { useContext, useEffect, useMemo, useState } from 'react';
import { api } from '../api.js';
import { get, parse } from '../pointer.js';
import { isRequiredAt } from '../schema.js';
import { RootData } from './context.js';

const empty = (v) => v === undefined || v === null || v === '';

/** Params with every `{"$input": pointer}` replaced by the input's value there; `missing`
 * lists the required pointers still empty (no call is made until they are set). An empty
 * optional one is left out. */
export function resolveParams(params, root, rootSchema) {
  const resolved = {};
  const missing = [];
  for (const [name, value] of Object.entries(params ?? {})) {
    const isInput = value && typeof value === 'object' && typeof value.$input === 'string';
    if (!isInput) {
      resolved[name] = value;
      continue;
    }
    const current = get(root, value.$input);
    if (!empty(current)) resolved[name] = current;
    else if (isRequiredAt(rootSchema, parse(value.$input))) missing.push(value.$input);
  }
  return { params: resolved, missing };
}

function usePickList(provider, params, missing) {
  const key = JSON.stringify([provider, params, missing]);
  const [state, setState] = useState({ key: null, options: [], next: null, loading: false });

  async function load(cursor, previous, signal) {
    // Answers for other params than the current ones (the user changed an $input meanwhile)
    // are dropped.
    const mine = (update) => setState((s) => (signal.stale || s.key !== key ? s : update(s)));
    mine((s) => ({ ...s, loading: true, error: null }));
    const answer = await api.options(provider, params, cursor);
    if (answer.error) {
      mine((s) => ({ ...s, loading: false, error: answer.error }));
    } else {
      mine(() => ({
        key,
        options: [...previous, ...answer.ok.options],
        next: answer.ok.next_cursor ?? null,
        loading: false,
        error: null,
      }));
    }
  }

  useEffect(() => {
    const signal = { stale: false };
    setState({ key, options: [], next: null, loading: false });
    if (missing.length === 0) load(undefined, [], signal);
    return () => {
      signal.stale = true;
    };
    // `key` stands for provider, params and missing.
  }, [key]);

  return { ...state, more: () => load(state.next, state.options, { stale: false }) };
}

function optionText(o) {
  const base = o.label && o.label !== o.value ? o.label : String(o.value);
  return o.parent ? `${o.parent} › ${base}` : base;
}

export function OptionsField(props) {
  const { schema, formData, onChange, fieldPathId, disabled, readonly, registry, required } = props;
  const { provider, params, join } = schema['x-options'];
  const root = useContext(RootData);
  const resolved = useMemo(
    () => resolveParams(params, root, registry.rootSchema),
    [params, root, registry.rootSchema],
  );
  const list = usePickList(provider, resolved.params, resolved.missing);
  const [filter, setFilter] = useState('');
  const [manual, setManual] = useState(false);
  const id = fieldPathId.$id;
  const label = props.title ?? schema.title ?? props.name;

  const current = empty(formData) ? [] : join ? String(formData).split(join).filter(Boolean) : [String(formData)];
  const needle = filter.trim().toLowerCase();
  const matches = (o) =>
    !needle ||
    [o.label, String(o.value), o.description, o.parent].some((t) => t?.toLowerCase().includes(needle));
  const shown = list.options.filter((o) => matches(o) || current.includes(String(o.value)));
  // A value set before its page was loaded (a preset, a typed one) still shows as chosen.
  const known = new Set(list.options.map((o) => String(o.value)));
  const unknown = current.filter((v) => !known.has(v));

  // Integer ids come back as text ("31"); NumberField turns the string we send into a number.
  function choose(event) {
    if (join) {
      const picked = [...event.target.selectedOptions].map((o) => o.value);
      const hidden = current.filter((v) => !shown.some((o) => String(o.value) === v) && known.has(v));
      const all = [...hidden, ...picked];
      onChange(all.length ? all.join(join) : undefined, fieldPathId.path, undefined, id);
    } else {
      onChange(event.target.value === '' ? undefined : event.target.value, fieldPathId.path, undefined, id);
    }
  }

  const waiting = resolved.missing.length > 0;
  const status = waiting
    ? `Set ${resolved.missing.join(', ')} first`
    : list.loading
      ? 'Loading…'
      : `${list.options.length} loaded${list.next ? ', more available' : ''}`;

  const toggle = (
    <button type="button" className="link" onClick={() => setManual(!manual)}>
      {manual ? 'Pick from the list' : 'Type a value'}
      <span className="visually-hidden"> for {label}</span>
    </button>
  );
  if (manual) {
    return (
      <div className="picker" data-testid={`picker-${id}`}>
        <div className="picker-row">
          <input
            type="text"
            id={id}
            value={formData ?? ''}
            onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value, fieldPathId.path, undefined, id)}
            disabled={disabled || readonly}
            required={required}
            aria-describedby={`${id}__description ${id}__error`}
          />
          {toggle}
        </div>
      </div>
    );
  }

  return (
    <div className="picker" data-testid={`picker-${id}`}>
      <div className="picker-row">
        <select
          id={id}
          multiple={!!join}
          size={join ? 6 : undefined}
          value={join ? current : (current[0] ?? '')}
          onChange={choose}
          disabled={disabled || readonly || waiting}
          required={required}
          aria-describedby={`${id}__status ${id}__description ${id}__error`}
        >
          {!join && <option value="">{waiting ? '—' : 'Choose…'}</option>}
          {unknown.map((v) => (
            <option key={`unknown-${v}`} value={v}>
              {v}
            </option>
          ))}
          {shown.map((o) => (
            <option key={String(o.value)} value={String(o.value)} title={o.description ?? undefined}>
              {optionText(o)}
            </option>
          ))}
        </select>
        <input
          type="search"
          className="picker-filter"
          placeholder="Filter…"
          aria-label={`Filter ${label}`}
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          disabled={disabled || readonly || waiting}
        />
        {list.next && (
          <button type="button" onClick={list.more} disabled={list.loading}>
            Load more<span className="visually-hidden"> for {label}</span>
          </button>
        )}
        {toggle}
      </div>
      <p className="picker-status" id={`${id}__status`} role="status">
        {provider}: {status}
      </p>
      {list.error && (
        <p className="text-danger">
          Pick list {provider} failed ({list.error.kind}
          {list.error.field ? ` at ${list.error.field}` : ''}): {list.error.message}
        </p>
      )}
    </div>
  );
}
