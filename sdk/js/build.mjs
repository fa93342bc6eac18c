#!/usr/bin/env node
// crossdesk-js-build SRC.js OUT.wasm: builds a JavaScript plugin into a component
// of contract crossdesk:plugin@0.2.1.
//
// Two steps, both offline once the npm packages are installed:
// 1. rolldown bundles SRC with everything it imports (this SDK, other npm
//    packages) into one ES module, resolving the SDK's `#host` to the contract's
//    imports. Only the contract's imports stay external; any other unresolved
//    import (a Node built-in, a missing package) fails the build here, since the
//    component could not load it.
// 2. componentize-js turns the module into a component of the world `plugin`,
//    with every WASI feature of its engine disabled: the plugin reaches the host
//    only through the contract's imports, as a Rust plugin does.
//    componentize-js reads the WIT through @bytecodealliance/preview2-shim, which
//    it imports without declaring; package.json pins 0.25.0, since the shim's
//    filesystem in 0.26 preopens no directory and the WIT cannot be read.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUPPORTED_NODE, supportedNode } from './lib/node-version.js';

const VERSION = '0.2.1';
const CONTRACT = `crossdesk-plugin@${VERSION}`;
// The world's imports, as componentize-js names them: only this version's, so
// that a plugin cannot mix in an interface of another contract.
const IMPORTS = ['log', 'kv', 'settings', 'http', 'clock', 'contacts'].map((i) => `crossdesk:plugin/${i}@${VERSION}`);
// The world's exports, which the module must define.
const EXPORTS = ['handler', 'tools'];
// The `#host` condition of package.json: the contract's imports, not the stand-in.
const CONDITION = 'crossdesk-plugin';

class BuildError extends Error {}

/** The contract's WIT: in the package (`wit/`, copied when packed) or beside it in the repository. */
function witPath() {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'wit', CONTRACT), join(here, '..', 'wit', CONTRACT)];
  const found = candidates.find((path) => existsSync(join(path, 'plugin.wit')));
  if (found === undefined) {
    throw new BuildError(`the contract's WIT is missing; looked in ${candidates.join(' and ')}`);
  }
  return found;
}

/** SRC and what it imports, as one ES module. */
async function bundle(source) {
  const unresolved = [];
  const foreign = [];
  const { rolldown } = await import('rolldown');
  const build = await rolldown({
    input: source,
    cwd: dirname(source),
    platform: 'neutral',
    resolve: {
      conditionNames: [CONDITION, 'import', 'module', 'default'],
      // Most npm packages still declare only `main`, which `neutral` ignores.
      mainFields: ['module', 'main'],
    },
    plugins: [
      {
        name: 'crossdesk-contract',
        resolveId(id) {
          if (!id.startsWith('crossdesk:')) {
            return null;
          }
          if (!IMPORTS.includes(id)) {
            foreign.push(id);
          }
          return { id, external: true };
        },
      },
    ],
    onLog(level, log, handler) {
      if (log.code === 'UNRESOLVED_IMPORT') {
        unresolved.push(log.message);
      } else if (level === 'warn') {
        handler(level, log);
      }
    },
  });
  try {
    const { output } = await build.generate({ format: 'esm', codeSplitting: false });
    if (foreign.length > 0) {
      throw new BuildError(
        `${[...new Set(foreign)].join(', ')}: not an import of contract ${VERSION}; ` +
          `the plugin may import ${IMPORTS.join(', ')}`,
      );
    }
    if (unresolved.length > 0) {
      throw new BuildError(
        `${unresolved.join('\n')}\nA component can load only the contract's imports and code bundled with it: ` +
          'install the package, or drop a Node built-in.',
      );
    }
    const [chunk] = output;
    const missing = EXPORTS.filter((name) => !chunk.exports.includes(name));
    if (missing.length > 0) {
      throw new BuildError(
        `${source} does not export ${missing.join(' and ')}; ` +
          'write `export const { handler, tools } = definePlugin({ ... })`',
      );
    }
    return chunk.code;
  } finally {
    await build.close();
  }
}

async function main([source, out, ...extra]) {
  if (source === undefined || out === undefined || extra.length > 0) {
    throw new BuildError('usage: crossdesk-js-build SRC.js OUT.wasm');
  }
  // Before rolldown and componentize-js are loaded (hence their dynamic imports).
  if (!supportedNode(process.versions.node)) {
    throw new BuildError(`Node.js ${process.versions.node} cannot build a component: the build needs ${SUPPORTED_NODE}`);
  }
  source = resolve(source);
  out = resolve(out);
  if (!existsSync(source)) {
    throw new BuildError(`no such file: ${source}`);
  }
  const wit = witPath();
  const code = await bundle(source);

  const work = await mkdtemp(join(tmpdir(), 'crossdesk-js-build-'));
  try {
    const bundled = join(work, 'plugin.js');
    await writeFile(bundled, code);
    const { componentize } = await import('@bytecodealliance/componentize-js');
    const { component } = await componentize({
      sourcePath: bundled,
      witPath: wit,
      worldName: 'plugin',
      disableFeatures: ['random', 'stdio', 'clocks', 'http', 'fetch-event'],
    });
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, component);
    console.log(`${String(component.byteLength).padStart(9)} bytes  ${out}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  // Our own errors say everything; anything else (rolldown, componentize-js) keeps its text.
  console.error(`crossdesk-js-build: ${error instanceof BuildError ? error.message : error?.stack ?? error}`);
  process.exit(1);
}
