// A trigger: poll it once (the server keeps the cursor between polls) and, for webhook
// triggers, subscribe and watch verified deliveries arrive.
import { useEffect, useRef, useState } from 'react';
import { api } from '../api.js';
import { ErrorBox } from '../components/ErrorBox.jsx';
import { JsonView } from '../components/JsonView.jsx';
import { Trace } from '../components/Trace.jsx';
import { SchemaForm } from '../form/SchemaForm.jsx';
import { ItemHeader } from './ItemHeader.jsx';

function Events({ events, label }) {
  if (!events?.length) return <p className="muted">No events.</p>;
  return (
    <ol className="events" aria-label={label}>
      {events.map((e, i) => (
        <li key={`${e.id}-${i}`}>
          <JsonView value={e.payload} name={`event ${e.id}`} open={i < 3 ? 1 : 0} />
        </li>
      ))}
    </ol>
  );
}

/** Deliveries the server verified for `key`, asked for every second while `on`. */
function useDeliveries(key, on) {
  const [state, setState] = useState({ next: 0, items: [], error: null });
  useEffect(() => {
    if (!on) return undefined;
    let after = state.next;
    let stopped = false;
    const tick = async () => {
      const answer = await api.deliveries(after);
      if (stopped) return;
      if (answer.error) {
        setState((s) => ({ ...s, error: answer.error }));
      } else {
        after = answer.next;
        const mine = answer.deliveries.filter((d) => d.trigger === key);
        setState((s) => ({ next: answer.next, items: [...s.items, ...mine], error: null }));
      }
    };
    tick();
    const timer = setInterval(tick, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
    // `state.next` is read once when polling starts; the loop keeps its own.
  }, [key, on]);
  return state;
}

function Webhook({ trigger, input, setTrace, drafts }) {
  // The subscription outlives the panel (the server keeps it), so its state is kept too.
  const memo = `subscription:${trigger.key}`;
  const [sub, setSub] = useState(() => drafts.get(memo) ?? { busy: false, ok: null, error: null });
  useEffect(() => {
    drafts.set(memo, { ...sub, busy: false });
  }, [memo, sub, drafts]);
  const deliveries = useDeliveries(trigger.key, !!sub.ok);

  async function subscribe() {
    setSub({ busy: true, ok: null, error: null });
    const answer = await api.subscribe(trigger.key, input ?? {});
    setTrace(answer.trace);
    setSub({ busy: false, ok: answer.ok ?? null, error: answer.error ?? null });
  }
  async function unsubscribe() {
    setSub((s) => ({ ...s, busy: true }));
    const answer = await api.unsubscribe(trigger.key);
    setTrace(answer.trace);
    setSub(answer.ok ? { busy: false, ok: null, error: null } : { ...sub, busy: false, error: answer.error });
  }

  return (
    <section aria-labelledby="webhook-heading" className="webhook">
      <h3 id="webhook-heading">Webhook</h3>
      <div className="actions-row">
        <button type="button" onClick={subscribe} disabled={sub.busy || !!sub.ok}>
          Subscribe
        </button>
        <button type="button" onClick={unsubscribe} disabled={sub.busy || !sub.ok}>
          Unsubscribe
        </button>
      </div>
      <ErrorBox error={sub.error} title="Webhook" />
      {sub.ok && (
        <p>
          Subscribed: webhook <code>{sub.ok.webhook_id}</code> delivering to <code>{sub.ok.target}</code>. Waiting
          for deliveries…
        </p>
      )}
      <ErrorBox error={deliveries.error} title="Deliveries" />
      {deliveries.items.length > 0 && (
        <ol className="deliveries" aria-label="Deliveries" data-testid="deliveries">
          {deliveries.items.map((d) => (
            <li key={d.seq}>
              <p>
                #{d.seq} at {d.received_at}
                {d.refused && (
                  <span className="text-danger">
                    {' '}
                    refused ({d.refused.kind}): {d.refused.message}
                  </span>
                )}
              </p>
              {d.events && <Events events={d.events} label={`Events of delivery ${d.seq}`} />}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function TriggerPanel({ trigger, drafts, connected }) {
  const [input, setInput] = useState(() => drafts.get(trigger.key) ?? {});
  const [reset, setReset] = useState(false);
  const [poll, setPoll] = useState({ busy: false, answer: null });
  const [trace, setTrace] = useState(null);

  useEffect(() => {
    drafts.set(trigger.key, input);
  }, [trigger.key, input, drafts]);

  async function pollOnce(data) {
    setPoll({ busy: true, answer: null });
    const answer = await api.poll(trigger.key, data ?? {}, reset);
    setPoll({ busy: false, answer });
    setTrace(answer.trace);
    setReset(false);
  }

  const resultRef = useRef(null);
  useEffect(() => {
    if (poll.answer) resultRef.current?.scrollIntoView({ block: 'start' });
  }, [poll.answer]);

  const modes = trigger.modes ?? [];
  const ok = poll.answer?.ok;
  return (
    <section className="panel" aria-labelledby="item-heading" data-testid="trigger-panel">
      <ItemHeader item={trigger} kind="trigger" />
      {!connected && <p className="note">Not connected yet: test a connection first.</p>}
      <section aria-labelledby="input-heading">
        <h3 id="input-heading">Input</h3>
        <SchemaForm
          schema={trigger.input_schema}
          formData={input}
          onChange={setInput}
          onSubmit={pollOnce}
          idPrefix="input"
        >
          {modes.includes('poll') ? (
            <div className="actions-row">
              <button type="submit" className="primary" disabled={poll.busy}>
                {poll.busy ? 'Polling…' : 'Poll once'}
              </button>
              <label className="inline">
                <input type="checkbox" checked={reset} onChange={(e) => setReset(e.target.checked)} />
                Reset the cursor first
              </label>
            </div>
          ) : (
            <></>
          )}
        </SchemaForm>
      </section>
      <div aria-live="polite" ref={resultRef} className="result">
        <ErrorBox error={poll.answer?.error} title="Poll failed" />
        {ok && (
          <section aria-labelledby="poll-heading" data-testid="poll-result">
            <h3 id="poll-heading">
              {ok.events.length} event{ok.events.length === 1 ? '' : 's'}
            </h3>
            <p className="muted">
              Next cursor <code>{ok.cursor == null ? 'none' : JSON.stringify(ok.cursor)}</code>
              {ok.has_more ? ' · more are waiting: poll again' : ' · caught up'}
            </p>
            <Events events={ok.events} label="Events" />
          </section>
        )}
      </div>
      {modes.includes('webhook') && <Webhook trigger={trigger} input={input} setTrace={setTrace} drafts={drafts} />}
      <Trace trace={trace} />
    </section>
  );
}
