// The HTTP exchanges one call made, as the backend recorded them (secrets already masked).
import { Fragment, useId, useState } from 'react';

function Headers({ title, headers }) {
  return (
    <div>
      <h5>{title}</h5>
      {headers?.length ? (
        <dl className="headers">
          {headers.map(([name, value], i) => (
            <Fragment key={i}>
              <dt>{name}</dt>
              <dd>{value}</dd>
            </Fragment>
          ))}
        </dl>
      ) : (
        <p className="muted">none</p>
      )}
    </div>
  );
}

function Row({ n, x }) {
  const [open, setOpen] = useState(false);
  const failed = x.error != null || (x.status != null && x.status >= 400);
  return (
    <>
      <tr className={failed ? 'failed' : undefined}>
        <td>{n}</td>
        <td>{x.method}</td>
        <td className="url">{x.url}</td>
        <td>{x.error != null ? <span className="text-danger">{x.error}</span> : x.status}</td>
        <td className="num">{Number(x.duration_ms).toFixed(1)}</td>
        <td className="num">{x.retry || ''}</td>
        <td className="num">
          {x.request_bytes} / {x.response_bytes}
        </td>
        <td>
          <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? 'Hide' : 'Show'}
            <span className="visually-hidden"> headers of exchange {n}</span>
          </button>
        </td>
      </tr>
      {open && (
        <tr className="trace-headers">
          <td colSpan={8}>
            <Headers title="Request headers" headers={x.request_headers} />
            <Headers title="Response headers" headers={x.response_headers} />
          </td>
        </tr>
      )}
    </>
  );
}

export function Trace({ trace }) {
  const headingId = useId();
  if (!trace) return null;
  return (
    <section className="trace" aria-labelledby={headingId}>
      <h3 id={headingId}>HTTP trace</h3>
      {trace.length === 0 ? (
        <p className="muted">No HTTP request was made.</p>
      ) : (
        <div className="table-scroll">
          <table data-testid="trace">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Method</th>
                <th scope="col">URL</th>
                <th scope="col">Status</th>
                <th scope="col">ms</th>
                <th scope="col">Retry</th>
                <th scope="col">Bytes out / in</th>
                <th scope="col">Headers</th>
              </tr>
            </thead>
            <tbody>
              {trace.map((x, i) => (
                <Row key={i} n={i + 1} x={x} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
