#!/usr/bin/env node
// Bundles the WIC (src/wic.js with JsSIP and its dependencies) into one
// browser script with esbuild: dist/wic.js and its source map, or OUTFILE.
// The bundle starts with the name, version and license of every npm
// package inside it. Next to it go the page's other files (index.html,
// its script tag pointing at the bundle beside it, and wic.css): that
// directory is the whole site, isthmus-wwsf's web_root (nothing of src/ or
// node_modules/ is served). Usage: node build.mjs [OUTFILE]  (npm run build)
import { build } from 'esbuild';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2] ?? join(here, 'dist', 'wic.js');

const options = {
  entryPoints: [join(here, 'src', 'wic.js')],
  outfile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  // Browsers with getStats() as in webrtc-stats and RTCDTMFSender.
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
};

// Which packages end up in the bundle (a first pass that writes nothing).
const probe = await build({ ...options, write: false, metafile: true, sourcemap: false });
const packages = new Set();
for (const input of Object.keys(probe.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
const credits = [...packages].sort().map((name) => {
  const pkg = JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8'));
  return ` *   ${pkg.name} ${pkg.version} (${pkg.license ?? 'see its package'})`;
});
const banner = `/*! Isthmus WIC (controlplane/wwsf/web), bundled with esbuild. Contains:\n${credits.join('\n')}\n */`;

await build({ ...options, banner: { js: banner } });

// The site: the page and its style beside the bundle.
const site = dirname(outfile);
const page = readFileSync(join(here, 'index.html'), 'utf8');
const script = '<script src="dist/wic.js" defer></script>';
if (!page.includes(script)) throw new Error(`index.html: no ${script}`);
writeFileSync(join(site, 'index.html'), page.replace(script, `<script src="${basename(outfile)}" defer></script>`));
copyFileSync(join(here, 'wic.css'), join(site, 'wic.css'));
