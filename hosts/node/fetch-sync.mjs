// One HTTP exchange for imports/http.js, run as a child process so the component's synchronous
// `http.send` import can wait for it (spawnSync). Request JSON on stdin, response JSON on stdout:
// {"status", "headers", "body" (base64)} or {"error": {"tag", "val"}} (the WIT http-error).
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const req = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const signal = req.timeoutMs ? AbortSignal.timeout(req.timeoutMs) : undefined;
let out;
try {
  const res = await fetch(req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body === undefined ? undefined : Buffer.from(req.body, 'base64'),
    // Redirects would bypass the egress policy; the connector sees 3xx as answers.
    redirect: 'manual',
    signal,
  });
  const body = Buffer.from(await res.arrayBuffer());
  out = { status: res.status, headers: [...res.headers.entries()], body: body.toString('base64') };
} catch (e) {
  out = e.name === 'TimeoutError'
    ? { error: { tag: 'timeout' } }
    : { error: { tag: 'connect', val: String(e.cause?.message ?? e.message) } };
}
process.stdout.write(JSON.stringify(out));
