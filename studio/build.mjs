// `npm run build`: the page the Rust binary embeds, in dist/. The output is committed and a
// test rebuilds it and compares byte for byte, so everything here must be deterministic (no
// timestamps, no source maps, no absolute paths).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

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
  outfile: 'dist/studio.js',
  format: 'iife',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
});
await build({ ...common, entryPoints: ['src/studio.css'], outfile: 'dist/studio.css' });
copyFileSync(join(here, 'src/index.html'), join(dist, 'index.html'));
