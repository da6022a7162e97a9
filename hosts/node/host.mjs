// A second host for the connector: the same .wasm, transpiled by jco, run on Node.
//   node host.mjs [OPTIONS] describe
//   node host.mjs [OPTIONS] test-connection --config FORM.json
//   node host.mjs [OPTIONS] action KEY --config FORM.json [--input INPUT.json]
//   node host.mjs [OPTIONS] schema KEY --config FORM.json [--input PARTIAL.json]
//   node host.mjs [OPTIONS] options PROVIDER --config FORM.json [--params JSON] [--cursor C]
// OPTIONS, as connector-harness has them:
//   --allow-loopback       loopback (127.0.0.0/8, ::1, `localhost`) may be reached, over http too
//   --package DIR          egress from DIR/manifest.json's `allowed_outbound_hosts` instead of
//                          ../../package/listing.json (the component is still build/connector.js)
//   --allow-origin ORIGIN  narrow what the package declares to these origins (repeatable)
//   --resolve NAME=IP      answer NAME with IP instead of DNS, still judged (repeatable)
// Prints the same JSON as `connector-harness` for these commands; a connector error, or the
// host's refusal of a connection, prints {"error": {"tag", "val"}} and exits 1.
// Run `npm run transpile` first.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { configure, heldSecrets } from './imports/http.js';
import { metadata, connection, actions, builder } from './build/connector.js';
import { bind, ConfigRefusal, parseDeclaration, shown, within } from './egress.mjs';
import { formSecrets, mask, redact, secretFields } from './secrets.mjs';

const LISTING = new URL('../../package/listing.json', import.meta.url);

function parseArgs(argv) {
  const args = { positional: [], allowLoopback: false, allowOrigin: [], resolve: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--allow-loopback') args.allowLoopback = true;
    else if (['--config', '--input', '--params', '--cursor', '--package'].includes(a)) args[a.slice(2)] = argv[++i];
    else if (a === '--allow-origin') args.allowOrigin.push(argv[++i]);
    else if (a === '--resolve') {
      const [name, ip] = (argv[++i] ?? '').split('=');
      if (!name || !isIP(ip ?? '')) throw new Error('--resolve takes NAME=IP');
      const key = name.replace(/\.+$/, '').toLowerCase();
      (args.resolve[key] ??= []).push(ip);
    } else args.positional.push(a);
  }
  return args;
}

/** The package's `allowed_outbound_hosts`: DIR/manifest.json with --package, else the
 *  Ironclad connector's listing. */
function declaration(args) {
  const file = args.package ? join(args.package, 'manifest.json') : LISTING;
  let doc;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`reading the egress declaration ${file}: ${e.message}`);
  }
  try {
    return parseDeclaration(doc.allowed_outbound_hosts);
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
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

/** Every secret the host holds, for masking what it prints. */
let known = [];

/** Plan the connection through the component, check the plan against what the package
 *  declares for this form, then give the http import its policy and credentials. Returns
 *  the form the guest sees (every secret value replaced by a placeholder). Refuses the
 *  connection (ConfigRefusal) before any request when the plan, token URL or authorization
 *  URL reaches outside the declaration. */
function connect(form, args) {
  if (form === null || typeof form !== 'object' || Array.isArray(form)) {
    throw new Error('a connection config must be a JSON object');
  }
  const declared = declaration(args);
  const fields = secretFields(parse(metadata.describe().connectionSchema));
  const secrets = formSecrets(form, fields);
  known = secrets;
  const guestConfig = JSON.stringify(mask(form, secrets));
  const plan = connection.plan(guestConfig);
  const bound = bind(declared, form, args.allowLoopback, args.allowOrigin.length ? args.allowOrigin : undefined);
  const origins = within(plan.allowedOrigins, bound, "the connector's plan asks to reach");
  let oauth = null;
  let formToken = null;
  if (plan.auth.tag === 'bearer') {
    // A long-lived token from the form, sent as it is: nothing to exchange or renew.
    const field = plan.auth.val.tokenField;
    if (!fields.includes(field)) {
      throw new ConfigRefusal(
        `the connector names \`${shown(field)}\` as the bearer token, which is not a secret field of its form`,
      );
    }
    formToken = form[field];
    if (typeof formToken !== 'string' || formToken === '') {
      throw new ConfigRefusal('required: the access token (it is sent as it is; the host cannot renew it)', field);
    }
  }
  if (plan.auth.tag === 'oauth2') {
    const o = plan.auth.val;
    // The client secret goes only where the package and the form allow.
    within([o.tokenUrl], bound, 'the token endpoint');
    if (o.authorizeUrl) within([o.authorizeUrl], bound, 'the authorization endpoint');
    if (!fields.includes(o.clientSecretField)) {
      throw new ConfigRefusal(
        `the connector names \`${shown(o.clientSecretField)}\` as the client secret, which is not a secret field of its form`,
      );
    }
    const clientSecret = form[o.clientSecretField];
    if (typeof clientSecret !== 'string' || clientSecret === '') {
      throw new ConfigRefusal("required: the OAuth app's client secret", o.clientSecretField);
    }
    if (o.grant !== 'client-credentials') {
      throw new Error('this Node host runs the client credentials grant only; use connector-harness for authorization code');
    }
    oauth = { tokenUrl: o.tokenUrl, clientId: o.clientId, clientSecret, scopes: o.scopes };
  }
  configure({ allowedOrigins: origins, allowLoopback: args.allowLoopback, oauth, formToken, pinned: args.resolve });
  return guestConfig;
}

function run(args) {
  const [command, key] = args.positional;
  const form = () => JSON.parse(readFileSync(args.config, 'utf8'));
  switch (command) {
    case 'describe':
      return describe();
    case 'test-connection': {
      const id = connection.test(connect(form(), args));
      return {
        user: { id: id.userId ?? null, email: id.userEmail ?? null, name: id.userName ?? null },
        company: { id: id.companyId ?? null, name: id.companyName ?? null },
        scopes: id.scopes,
      };
    }
    case 'action': {
      const guestConfig = connect(form(), args);
      const input = args.input ? readFileSync(args.input, 'utf8') : '{}';
      return JSON.parse(actions.execute(guestConfig, key, input));
    }
    case 'schema': {
      const guestConfig = connect(form(), args);
      const partial = args.input ? readFileSync(args.input, 'utf8') : '{}';
      const s = builder.inputSchema(guestConfig, key, partial);
      return { input_schema: JSON.parse(s.inputSchema), output_schema: JSON.parse(s.outputSchema) };
    }
    case 'options': {
      // One page, as `connector-harness options --cursor` prints it.
      const guestConfig = connect(form(), args);
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
  // jco raises a WIT `result` error as a ComponentError carrying the variant in `payload`;
  // the host's own refusals of a connection carry the same shape.
  if (e && e.payload !== undefined) {
    process.stdout.write(redact(JSON.stringify({ error: e.payload }, null, 2), [...known, ...heldSecrets()]) + '\n');
    process.exit(1);
  }
  process.stderr.write(`${redact(String(e?.stack ?? e), [...known, ...heldSecrets()])}\n`);
  process.exit(2);
}
