// build.mjs (the `crossdesk-js-build` bin): its refusals, and one real build.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SUPPORTED_NODE, supportedNode } from '../lib/node-version.js';

const build = fileURLToPath(new URL('../build.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'crossdesk-build-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(...args) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [build, ...args], { encoding: 'utf8' });
  return { status, stdout, stderr };
}

function source(name, code) {
  const path = join(work, name);
  writeFileSync(path, code);
  return path;
}

test('the Node versions it builds on are those package.json states', () => {
  const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
  assert.equal(SUPPORTED_NODE, engines);
  for (const version of ['20.19.0', '20.20.1', '22.12.0', '23.0.0', '24.4.1']) {
    assert.equal(supportedNode(version), true, version);
  }
  for (const version of ['18.19.1', '20.18.3', '21.7.3', '22.11.0', '', 'v22']) {
    assert.equal(supportedNode(version), false, version);
  }
});

const exportsBoth = 'export const handler = {}; export const tools = {};\n';

test('without SRC and OUT it prints its usage', () => {
  const { status, stderr } = run('only-one.js');
  assert.equal(status, 1);
  assert.match(stderr, /usage: crossdesk-js-build SRC\.js OUT\.wasm/);
});

test('a missing source is named', () => {
  const { status, stderr } = run(join(work, 'nope.js'), join(work, 'out.wasm'));
  assert.equal(status, 1);
  assert.match(stderr, /no such file: .*nope\.js/);
});

test('a Node built-in cannot be bundled into a component', () => {
  const src = source('fs.js', `import { readFileSync } from 'node:fs';\nglobalThis.f = readFileSync;\n${exportsBoth}`);
  const { status, stderr } = run(src, join(work, 'out.wasm'));
  assert.equal(status, 1);
  assert.match(stderr, /Could not resolve 'node:fs'/);
  assert.match(stderr, /can load only the contract's imports/);
});

test('only the imports of contract 0.2.1 are allowed', () => {
  const src = source('v1.js', `import { get } from 'crossdesk:plugin/config@0.1.0';\nglobalThis.g = get;\n${exportsBoth}`);
  const { status, stderr } = run(src, join(work, 'out.wasm'));
  assert.equal(status, 1);
  assert.match(stderr, /crossdesk:plugin\/config@0.1.0: not an import of contract 0.2.1/);

  // Not even 0.2.0's: a component imports one contract version.
  const older = source('v020.js', `import { get } from 'crossdesk:plugin/kv@0.2.0';\nglobalThis.g = get;\n${exportsBoth}`);
  const refused = run(older, join(work, 'out.wasm'));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /crossdesk:plugin\/kv@0.2.0: not an import of contract 0.2.1/);
});

test('the module must export handler and tools', () => {
  const src = source('half.js', 'export const handler = {};\n');
  const { status, stderr } = run(src, join(work, 'out.wasm'));
  assert.equal(status, 1);
  assert.match(stderr, /does not export tools/);
});

test('a plugin using the whole SDK builds, with the contract imports and not the stand-in host', () => {
  const out = join(work, 'nested', 'everything.wasm');
  const { status, stdout, stderr } = run(fileURLToPath(new URL('fixtures/everything.js', import.meta.url)), out);
  assert.equal(status, 0, stderr);
  assert.match(stdout, new RegExp(`^\\s*\\d+ bytes  ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));
  // The bundled source is kept in the component: the SDK is there, its stand-in is not.
  const component = readFileSync(out).toString('latin1');
  assert.ok(component.includes('toPluginError'));
  assert.ok(!component.includes('MockHost'));
  // It imports the interfaces of 0.2.1, compare-and-swap included.
  assert.ok(component.includes('crossdesk:plugin/kv@0.2.1'));
  assert.ok(component.includes('compare-and-swap'));
  assert.ok(!component.includes('@0.2.0'));
});
