// A second host for the connector: the same .wasm, transpiled by jco, run on Node.
//   node host.mjs [--allow-loopback] describe
//   node host.mjs [--allow-loopback] test-connection --config FORM.json
//   node host.mjs [--allow-loopback] action KEY --config FORM.json [--input INPUT.json]
//   node host.mjs [--allow-loopback] schema KEY --config FORM.json [--input PARTIAL.json]
//   node host.mjs [--allow-loopback] options PROVIDER --config FORM.json [--params JSON] [--cursor C]
// Prints the same JSON as `connector-harness` for these commands; a connector error prints
// {"error": ...} and exits 1. Run `npm run transpile` first.
import { readFileSync } from 'node:fs';
import { configure } from './imports/http.js';
import { metadata, connection, actions, builder } from './build/connector.js';

const SECRET_PLACEHOLDER = '<secret>';

function parseArgs(argv) {
  const args = { positional: [], allowLoopback: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--allow-loopback') args.allowLoopback = true;
    else if (['--config', '--input', '--params', '--cursor'].includes(a)) args[a.slice(2)] = argv[++i];
    else args.positional.push(a);
  }
  return args;
}

const parse = (s) => { try { return JSON.parse(s); } catch { return s; } };

/** `describe` in the wasmtime harness's JSON shape (schemas parsed, snake_case keys). */
function describe() {
  const m = metadata.describe();
  return {
    id: m.id,
    name: m.name,
    version: m.version,
    description: m.description,
    connection_schema: parse(m.connectionSchema),
    actions: m.actions.map((a) => ({
      key: a.key,
      title: a.title,
      description: a.description,
      group: a.group,
      operation: a.operation ?? null,
      scopes: a.scopes,
      api_type: a.apiType,
      input_schema: parse(a.inputSchema),
      output_schema: parse(a.outputSchema),
      hints: { read_only: a.hints.readOnly, destructive: a.hints.destructive, idempotent: a.hints.idempotent },
    })),
    triggers: m.triggers.map((t) => ({
      key: t.key,
      title: t.title,
      description: t.description,
      modes: t.modes,
      scopes: t.scopes,
      api_type: t.apiType,
      input_schema: parse(t.inputSchema),
      output_schema: parse(t.outputSchema),
    })),
  };
}

/** Plan the connection through the component, then give the http import its policy and
 *  credentials. Returns the form the guest sees (secrets replaced by a placeholder). */
function connect(form, allowLoopback) {
  const schema = parse(metadata.describe().connectionSchema);
  const secrets = Object.entries(schema.properties ?? {}).filter(([, p]) => p['x-secret'] === true).map(([k]) => k);
  const guest = { ...form };
  for (const field of secrets) if (guest[field]) guest[field] = SECRET_PLACEHOLDER;
  const guestConfig = JSON.stringify(guest);
  const plan = connection.plan(guestConfig);
  let oauth = null;
  if (plan.auth.tag === 'oauth2') {
    const o = plan.auth.val;
    if (o.grant !== 'client-credentials') {
      throw new Error('this Node host runs the client credentials grant only; use connector-harness for authorization code');
    }
    oauth = { tokenUrl: o.tokenUrl, clientId: o.clientId, clientSecret: form[o.clientSecretField], scopes: o.scopes };
  }
  configure({ allowedOrigins: plan.allowedOrigins, allowLoopback, oauth });
  return guestConfig;
}

function run(args) {
  const [command, key] = args.positional;
  const form = () => JSON.parse(readFileSync(args.config, 'utf8'));
  switch (command) {
    case 'describe':
      return describe();
    case 'test-connection': {
      const id = connection.test(connect(form(), args.allowLoopback));
      return {
        user: { id: id.userId ?? null, email: id.userEmail ?? null, name: id.userName ?? null },
        company: { id: id.companyId ?? null, name: id.companyName ?? null },
        scopes: id.scopes,
      };
    }
    case 'action': {
      const guestConfig = connect(form(), args.allowLoopback);
      const input = args.input ? readFileSync(args.input, 'utf8') : '{}';
      return JSON.parse(actions.execute(guestConfig, key, input));
    }
    case 'schema': {
      const guestConfig = connect(form(), args.allowLoopback);
      const partial = args.input ? readFileSync(args.input, 'utf8') : '{}';
      const s = builder.inputSchema(guestConfig, key, partial);
      return { input_schema: JSON.parse(s.inputSchema), output_schema: JSON.parse(s.outputSchema) };
    }
    case 'options': {
      // One page, as `connector-harness options --cursor` prints it.
      const guestConfig = connect(form(), args.allowLoopback);
      const page = builder.listOptions(guestConfig, key, args.params ?? '{}', args.cursor);
      const options = page.choices.map((c) => ({
        value: c.value,
        label: c.label,
        ...(c.description != null ? { description: c.description } : {}),
        ...(c.parent != null ? { parent: c.parent } : {}),
      }));
      return { options, next_cursor: page.nextCursor ?? null };
    }
    default:
      throw new Error(`unknown command ${command}; expected describe, test-connection, action, schema or options`);
  }
}

try {
  process.stdout.write(JSON.stringify(run(parseArgs(process.argv.slice(2))), null, 2) + '\n');
} catch (e) {
  // jco raises a WIT `result` error as a ComponentError carrying the variant in `payload`.
  if (e && e.payload !== undefined) {
    process.stdout.write(JSON.stringify({ error: e.payload }, null, 2) + '\n');
    process.exit(1);
  }
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(2);
}
