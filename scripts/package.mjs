// Finishes the npm package wasm-pack wrote in pkg/: `exports` for bundlers and Node's resolver,
// the classic build in `files`, and public types without `any` (the raw wasm exports in
// InitOutput are internal: only `memory` is kept).
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';

const pkg = new URL('../pkg/', import.meta.url);
const manifest = JSON.parse(await readFile(new URL('package.json', pkg), 'utf8'));
manifest.exports = {
  '.': { types: './tracksnap.d.ts', import: './tracksnap.js', default: './tracksnap.js' },
  './tracksnap_bg.wasm': './tracksnap_bg.wasm',
  './classic': './classic/tracksnap.js',
  './classic/tracksnap_bg.wasm': './classic/tracksnap_bg.wasm',
  './package.json': './package.json',
};
manifest.files = [
  'tracksnap.js', 'tracksnap.d.ts', 'tracksnap_bg.wasm',
  'classic/tracksnap.js', 'classic/tracksnap_bg.wasm', 'README.md', 'LICENSE', 'docs/*.md',
];
// Importing the module runs nothing until init(): bundlers may drop it when unused.
manifest.sideEffects = false;
// No public repository or homepage exists yet: none is named rather than a made-up one (npm
// shows the README instead). The module runs in browsers only (WebAssembly, VideoFrame,
// IndexedDB): `engines` would describe Node, so there is none.
for (const field of ['homepage', 'repository', 'bugs', 'engines']) delete manifest[field];
manifest.keywords = [...new Set([...(manifest.keywords ?? []), 'browser'])];
await writeFile(new URL('package.json', pkg), `${JSON.stringify(manifest, null, 2)}\n`);

const dts = new URL('tracksnap.d.ts', pkg);
const types = (await readFile(dts, 'utf8')).replace(
  /export interface InitOutput \{[^}]*\}/,
  'export interface InitOutput {\n  readonly memory: WebAssembly.Memory;\n}',
);
if (/\bany\b/.test(types.replace(/\/\*[\s\S]*?\*\//g, ''))) {
  throw new Error('pkg/tracksnap.d.ts has an `any` outside comments');
}
await writeFile(dts, types);
// wasm-bindgen's classic build declares `let tracksnap` at the top of the script: a global
// binding other scripts see, but not a property of window. Make it one too.
const classic = new URL('classic/tracksnap.js', pkg);
const classicJs = await readFile(classic, 'utf8');
if (!classicJs.includes('globalThis.tracksnap = tracksnap;')) {
  await writeFile(classic, `${classicJs}\nglobalThis.tracksnap = tracksnap;\n`);
}

await copyFile(new URL('../README.md', pkg), new URL('README.md', pkg));
await copyFile(new URL('../LICENSE', pkg), new URL('LICENSE', pkg));
// The README links into docs/: ship the pages with it.
await mkdir(new URL('docs/', pkg), { recursive: true });
for (const page of ['api.md', 'performance.md', 'reliability.md']) {
  await copyFile(new URL(`../docs/${page}`, pkg), new URL(`docs/${page}`, pkg));
}
console.log('pkg/: package.json exports, classic build, types without any');
