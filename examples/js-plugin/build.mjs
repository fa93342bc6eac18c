// Builds plugin.js into a component: node build.mjs OUT.wasm
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, '../../target/plugins/js-plugin.wasm'));
const { component } = await componentize({
  sourcePath: resolve(here, 'plugin.js'),
  witPath: resolve(here, '../../sdk/wit/crossdesk-plugin@0.1.0'),
  worldName: 'plugin',
  // The plugin uses only the contract's imports; it reaches nothing else.
  disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
});
await mkdir(dirname(out), { recursive: true });
await writeFile(out, component);
console.log(`${String(component.byteLength).padStart(9)} bytes  ${out}`);
