// `npm run build`: the page the Rust binary embeds, in dist/. The output is committed and a
// test rebuilds it and compares byte for byte, so everything here must be deterministic (no
// timestamps, no source maps, no absolute paths).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
// `--outdir DIR` builds elsewhere: the test that compares a fresh build with the committed one.
const at = process.argv.indexOf('--outdir');
const dist = at > 0 ? resolve(process.argv[at + 1]) : join(here, 'dist');
// Only our own dist/ is emptied first; another directory is written into, never removed.
if (at < 0) rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['src/main.jsx'],
  outfile: join(dist, 'studio.js'),
  format: 'iife',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
});
await build({ ...common, entryPoints: ['src/studio.css'], outfile: join(dist, 'studio.css') });
copyFileSync(join(here, 'src/index.html'), join(dist, 'index.html'));
