// A person's walk through the studio, in headless Chromium against a running
// `connector-harness studio --emulator`:
//
//   node studio/tests/walkthrough.mjs --url 'http://127.0.0.1:PORT/?token=…' --out DIR
//        [--chromium /usr/bin/chromium]   (or env CHROMIUM)
//
// Each step saves DIR/NN-name.png; on a failure DIR/failure.png, a message on stderr and
// exit code 1. The last stdout line is a JSON summary ({"ok":true,…} only if every step
// passed).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_TIMEOUT_MS = 20_000;

function args() {
  const out = { chromium: process.env.CHROMIUM || '/usr/bin/chromium' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!['url', 'out', 'chromium'].includes(name) || argv[i + 1] === undefined) {
      console.error(`usage: walkthrough.mjs --url URL --out DIR [--chromium PATH] (bad argument ${argv[i]})`);
      process.exit(2);
    }
    out[name] = argv[++i];
  }
  if (!out.url || !out.out) {
    console.error('usage: walkthrough.mjs --url URL --out DIR [--chromium PATH]');
    process.exit(2);
  }
  return out;
}

const opts = args();
mkdirSync(opts.out, { recursive: true });
const summary = { ok: false };

const browser = await chromium.launch({ executablePath: opts.chromium, headless: true });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(STEP_TIMEOUT_MS);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

let stepNo = 0;
async function step(name, body) {
  stepNo += 1;
  const label = `${String(stepNo).padStart(2, '0')}-${name}`;
  let timer;
  try {
    await Promise.race([
      body(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${STEP_TIMEOUT_MS / 1000} s`)), STEP_TIMEOUT_MS);
      }),
    ]);
    if (problems.length) throw new Error(problems.join('; '));
    await page.screenshot({ path: join(opts.out, `${label}.png`) });
    console.error(`ok   ${label}`);
  } catch (e) {
    console.error(`FAIL ${label}: ${e.message}`);
    await page.screenshot({ path: join(opts.out, 'failure.png') }).catch(() => {});
    console.log(JSON.stringify({ ...summary, ok: false, failed: label, error: e.message }));
    await browser.close();
    process.exit(1);
  } finally {
    clearTimeout(timer);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** The JSON answer of the next /api call whose path ends with `suffix` (and whose request
 * body passes `sent`), once `act` ran. */
async function answerOf(suffix, act, sent = () => true) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => {
      if (!new URL(r.url()).pathname.endsWith(suffix)) return false;
      const body = r.request().postData();
      return sent(body ? JSON.parse(body) : undefined);
    }),
    act(),
  ]);
  return response.json();
}

/** Waits until the <select> has a choice besides the empty one, and picks the first. */
async function pickFirst(select) {
  await page.waitForFunction(
    (el) => [...el.options].some((o) => o.value !== '') && !el.disabled,
    await select.elementHandle(),
  );
  const value = await select.evaluate((el) => [...el.options].find((o) => o.value !== '').value);
  await select.selectOption(value);
  return value;
}

/** Fills the field rendered for `schema` at element id `id` with a valid value, recursing
 * into the required members of objects (generic: the emulator's templates vary). */
async function fill(id, schema) {
  const el = page.locator(`[id="${id}"]`);
  if (schema['x-options']) return pickFirst(el);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (schema.enum) return el.selectOption({ label: String(schema.enum[0]) });
  switch (type) {
    case 'string':
      if (schema.format === 'email') return el.fill('studio@example.com');
      if (schema.format === 'date') return el.fill('2026-05-01');
      if (schema.format === 'date-time') return el.fill('2026-05-01T09:30');
      if (schema.examples?.length) return el.fill(String(schema.examples[0]));
      if (schema.minLength === 3 && schema.maxLength === 3) return el.fill('USD');
      return el.fill('Studio walkthrough');
    case 'number':
    case 'integer':
      return el.fill(String(schema.minimum ?? 12));
    case 'boolean':
      return el.check();
    case 'object':
      for (const name of schema.required ?? []) await fill(`${id}_${name}`, schema.properties?.[name] ?? {});
      return undefined;
    case 'array': {
      if (schema.items?.enum) return el.selectOption({ label: String(schema.items.enum[0]) });
      await page.locator(`[id="${id}"]`).locator('..').getByRole('button', { name: /add/i }).first().click();
      return fill(`${id}_0`, schema.items ?? {});
    }
    default:
      return el.fill('Studio walkthrough');
  }
}

let manifest;
let launchSchema;
const launch = () => manifest.actions.find((a) => a.key === 'launch_new_workflow');

await step('connection-tested', async () => {
  manifest = await answerOf('/api/manifest', async () => {
    const response = await page.goto(opts.url);
    check(response?.ok(), `the page answered HTTP ${response?.status()}: ${(await response?.text())?.slice(0, 200)}`);
  });
  check(Array.isArray(manifest.actions), `the manifest has no actions: ${JSON.stringify(manifest).slice(0, 200)}`);
  const preset = page.getByLabel('Preset');
  const labels = await preset.locator('option').allTextContents();
  const clm = labels.find((l) => /CLM Public/i.test(l));
  check(clm, `no CLM Public preset among ${JSON.stringify(labels)}`);
  await preset.selectOption({ label: clm });
  const answer = await answerOf('/api/connection', () =>
    page.getByRole('button', { name: 'Test connection' }).click(),
  );
  check(answer.ok, `the connection failed: ${JSON.stringify(answer.error)}`);
  const email = answer.ok.user?.email;
  check(email, `the identity has no email: ${JSON.stringify(answer.ok)}`);
  await page.getByTestId('identity').getByText(email).waitFor();
  summary.user = email;
});

await step('catalog-search', async () => {
  await page.getByRole('searchbox', { name: 'Search' }).fill('launch');
  check(launch(), 'the manifest has no launch_new_workflow');
  const entry = page.getByTestId('entry-launch_new_workflow');
  await entry.click();
  await page.getByRole('heading', { level: 2, name: launch().title || launch().key, exact: true }).waitFor();
  await page.locator('[id="input_body_template"]').waitFor();
});

await step('launch-form', async () => {
  const select = page.locator('[id="input_body_template"]');
  await page.waitForFunction((el) => [...el.options].some((o) => o.value !== ''), await select.elementHandle());
  const template = await select.evaluate((el) => [...el.options].find((o) => o.value !== '').value);
  // The form asks for the template's schema once the choice lands.
  const answer = await answerOf(
    '/api/actions/launch_new_workflow/schema',
    () => select.selectOption(template),
    (body) => body?.input?.body?.template === template,
  );
  check(answer.ok, `the schema call failed: ${JSON.stringify(answer.error)}`);
  launchSchema = answer.ok.input_schema;
  const attributes = launchSchema.properties?.body?.properties?.attributes;
  check(attributes?.properties, 'the schema has no body.attributes properties');
  // Wait for a field only the template's schema has (the static one lists a few too).
  const fresh = Object.keys(attributes.properties).find(
    (k) => !launch().input_schema.properties.body.properties.attributes?.properties?.[k],
  );
  const field = fresh ?? Object.keys(attributes.properties)[0];
  await page.locator(`[id="input_body_attributes_${field}"]`).waitFor();
  summary.template = template;
});

await step('run-result', async () => {
  const attributes = launchSchema.properties.body.properties.attributes;
  await fill('input_body_attributes', attributes);
  const answer = await answerOf('/api/actions/launch_new_workflow/run', () =>
    page.getByRole('button', { name: 'Run action' }).click(),
  );
  check(answer.ok, `the launch failed: ${JSON.stringify(answer.error)}`);
  const id = answer.ok.id;
  check(typeof id === 'string' && id, `the output has no id: ${JSON.stringify(answer.ok).slice(0, 300)}`);
  await page.getByTestId('output').getByText(id, { exact: false }).first().waitFor();
  const rows = await page.getByTestId('trace').locator('tbody tr').allInnerTexts();
  check(
    rows.some((r) => /\bPOST\b/.test(r) && /\/workflows\b/.test(r)),
    `the trace lists no POST to /workflows: ${JSON.stringify(rows)}`,
  );
  await page.getByTestId('output').scrollIntoViewIfNeeded();
  summary.workflow_id = id;
});

await step('invalid-input', async () => {
  const attributes = launchSchema.properties.body.properties.attributes;
  const props = attributes.properties;
  // Prefer a format the connector checks (email); else leave a required field empty.
  const email = Object.keys(props).find((k) => props[k].format === 'email');
  let expected;
  if (email) {
    await page.locator(`[id="input_body_attributes_${email}"]`).fill('not-an-email');
    expected = `/body/attributes/${email}`;
  } else {
    const name = (attributes.required ?? []).find((k) => props[k].type === 'string' && !props[k].enum);
    check(name, 'the template has neither an email field nor a required text field to spoil');
    await page.locator(`[id="input_body_attributes_${name}"]`).fill('');
    expected = `/body/attributes/${name}`;
  }
  // Under the studio's Content-Security-Policy the page compiles no validator, so the
  // connector answers (where a page could check first, that check is turned off).
  const browserCheck = page.getByLabel('Check the input in the browser first');
  if (await browserCheck.count()) await browserCheck.uncheck();
  const answer = await answerOf('/api/actions/launch_new_workflow/run', () =>
    page.getByRole('button', { name: 'Run action' }).click(),
  );
  check(
    answer.error?.kind === 'invalid_input' && answer.error.field === expected,
    `expected invalid_input at ${expected}, got ${JSON.stringify(answer.error ?? answer.ok).slice(0, 300)}`,
  );
  const id = `input${expected.replaceAll('/', '_')}`;
  const group = page.locator('.rjsf-field-error').filter({ has: page.locator(`[id="${id}"]`) });
  await group.waitFor();
  await group.getByText(answer.error.message, { exact: false }).first().waitFor();
  await page.locator(`[id="${id}"]`).scrollIntoViewIfNeeded();
  summary.refused = expected;
});

await step('trigger-polled', async () => {
  const trigger =
    manifest.triggers.find(
      (t) => t.api_type === 'clm_public' && t.modes?.includes('poll') && t.key === 'workflow_launched',
    ) ??
    manifest.triggers.find((t) => t.api_type === 'clm_public' && t.modes?.includes('poll') && t.key.includes('workflow'));
  check(trigger, 'no polling workflow trigger for clm_public');
  const search = page.getByRole('searchbox', { name: 'Search' });
  await search.fill(trigger.key);
  await page.getByTestId(`entry-${trigger.key}`).click();
  await page.getByRole('heading', { level: 2, name: trigger.title || trigger.key, exact: true }).waitFor();
  // A first poll starts at `since` (default: now); from long ago it sees the seeded workflows.
  if (trigger.input_schema?.properties?.since) {
    const since = page.locator('[id="input_since"]');
    const type = await since.getAttribute('type');
    await since.fill(type === 'datetime-local' ? '2000-01-01T00:00' : '2000-01-01T00:00:00Z');
  }
  await page.getByLabel('Reset the cursor first').check();
  const answer = await answerOf(`/api/triggers/${trigger.key}/poll`, () =>
    page.getByRole('button', { name: 'Poll once' }).click(),
  );
  check(answer.ok, `the poll failed: ${JSON.stringify(answer.error)}`);
  check(answer.ok.events.length > 0, 'the poll returned no events');
  await page.getByTestId('poll-result').getByRole('heading', { name: /\d+ events?/ }).waitFor();
  const shown = await page.getByTestId('poll-result').locator('ol.events > li').count();
  check(shown === answer.ok.events.length, `${shown} events shown of ${answer.ok.events.length}`);
  summary.trigger = trigger.key;
  summary.events = answer.ok.events.length;
});

await browser.close();
console.log(JSON.stringify({ ...summary, ok: true }));
