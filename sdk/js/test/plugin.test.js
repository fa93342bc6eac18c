// definePlugin: the exports a component needs, errors as the contract's
// plugin-error, the tools, and MockHost#call running a plugin as the host does.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  addTags,
  command,
  CommandInput,
  contacts,
  dataset,
  definePlugin,
  http,
  internalNote,
  kv,
  param,
  PluginError,
  replaceDraft,
  settings,
} from '../index.js';
import { MockHost, testEvent } from '../testing.js';

const message = (text = 'Hola') => testEvent('customer-message', text, { customer: { locale: 'es-MX' } });

test('a plugin exports the manifest and handle of the contract', () => {
  const plugin = definePlugin({
    manifest: { name: 'greeter', version: '0.1.0', events: ['customer-message'] },
    handle: (event) => [internalNote(`New message: ${event.text}`)],
  });
  assert.equal(plugin.handler.manifest().name, 'greeter');
  assert.deepEqual(plugin.handler.handle(message()), [internalNote('New message: Hola')]);
});

test('returning nothing is no actions; anything else but an array is an error', () => {
  const quiet = definePlugin({ manifest: { name: 'q', version: '1' }, handle() {} });
  assert.deepEqual(quiet.handler.handle(message()), []);
  const wrong = definePlugin({ manifest: { name: 'w', version: '1' }, handle: () => internalNote('x') });
  assert.throws(() => wrong.handler.handle(message()), /handle must return an array of actions, got object/);
  const later = definePlugin({ manifest: { name: 'l', version: '1' }, handle: async () => [] });
  assert.throws(() => later.handler.handle(message()), /returned a promise; it must answer synchronously/);
});

test('whatever handle throws reaches the host as a plugin-error', () => {
  const throwing = (error) =>
    definePlugin({
      manifest: { name: 't', version: '1' },
      handle() {
        throw error;
      },
    }).handler.handle;
  const thrown = (error) => {
    try {
      throwing(error)(message());
    } catch (e) {
      assert.ok(e instanceof PluginError, 'a PluginError, which the bindings lower');
      return { message: e.message, retryable: e.retryable };
    }
    assert.fail('did not throw');
  };
  assert.deepEqual(thrown(PluginError.retryable('engine down')), { message: 'engine down', retryable: true });
  assert.deepEqual(thrown(new PluginError('bad input')), { message: 'bad input', retryable: false });
  assert.deepEqual(thrown(new TypeError('x is undefined')), { message: 'TypeError: x is undefined', retryable: false });
  assert.deepEqual(thrown('just a string'), { message: 'uncaught string: just a string', retryable: false });
});

test("a capability's error becomes the plugin's error, retryable as in the Rust SDK", () => {
  const plugin = definePlugin({
    manifest: { name: 'caller', version: '1', events: ['customer-message'], kv: true, outboundHosts: ['api.example.com'] },
    handle(event) {
      if (event.text === 'store') {
        kv.put('k', 'v');
      } else {
        http.get('https://api.example.com/');
      }
      return [];
    },
  });
  new MockHost().install();
  assert.throws(() => plugin.handler.handle(message('store')), { name: 'PluginError', retryable: false, message: /^storage denied/ });
  assert.throws(() => plugin.handler.handle(message('fetch')), { name: 'PluginError', retryable: false, message: /^request denied/ });
});

test('a manifest that offers tools needs their functions', () => {
  assert.throws(
    () => definePlugin({ manifest: { name: 'd', version: '1', datasets: [dataset('kb', 'Articles')] }, handle() {} }),
    /offers datasets but has no importDataset/,
  );
  assert.throws(
    () => definePlugin({ manifest: { name: 'c', version: '1', commands: [command('stats', 'Stats')] }, handle() {} }),
    /offers commands but has no runCommand/,
  );
  assert.throws(() => definePlugin({ manifest: { name: 'h', version: '1' } }), /has no handle\(event\) function/);
});

test('tools not offered answer with an error, as the contract asks', () => {
  const { tools } = definePlugin({ manifest: { name: 'plain', version: '1' }, handle() {} });
  assert.throws(() => tools.importDataset('kb', 'json', new Uint8Array()), { message: "this plugin offers no dataset 'kb'" });
  assert.throws(() => tools.runCommand('stats', { values: [], files: [] }), { message: "this plugin offers no command 'stats'" });
});

test('a dataset import returns the entries that replace it, as bytes', () => {
  const { tools } = definePlugin({
    manifest: { name: 'faq', version: '1', kv: true, datasets: [dataset('answers', 'Canned answers', ['txt'])] },
    handle() {},
    importDataset(name, _format, content) {
      const lines = new TextDecoder().decode(content).split('\n');
      return { prefix: 'answer/', entries: lines.map((line, i) => [`answer/${i}`, line]), summary: `${lines.length} ${name}` };
    },
  });
  const imported = tools.importDataset('answers', 'txt', new TextEncoder().encode('a\nb'));
  assert.deepEqual(imported, {
    prefix: 'answer/',
    entries: [
      ['answer/0', new TextEncoder().encode('a')],
      ['answer/1', new TextEncoder().encode('b')],
    ],
    records: 2,
    summary: '2 answers',
  });
  assert.throws(() => tools.importDataset('other', 'txt', new Uint8Array()), /offers no dataset 'other'/);
});

test('an entry outside the prefix is refused before the host refuses the import', () => {
  const { tools } = definePlugin({
    manifest: { name: 'faq', version: '1', datasets: [dataset('answers', 'Canned answers')] },
    handle() {},
    importDataset: () => ({ prefix: 'answer/', entries: [['question/1', 'x']] }),
  });
  assert.throws(() => tools.importDataset('answers', 'json', new Uint8Array()), /'question\/1' does not start with the prefix 'answer\/'/);
});

test('a command reads its arguments and answers text and files', () => {
  const { tools } = definePlugin({
    manifest: {
      name: 'calc',
      version: '1',
      commands: [
        command('double', 'Doubles numbers', {
          params: [param.value('n', 'A number', { repeated: true }), param.flag('json', 'JSON'), param.outputFile('out', 'Where')],
        }),
      ],
    },
    handle() {},
    runCommand(_command, input) {
      const doubled = input.valuesOf('n').map((n) => Number(n) * 2);
      if (input.flag('json')) {
        return { text: 'written\n', files: [{ param: 'out', name: 'doubled.json', content: JSON.stringify(doubled) }] };
      }
      return `${doubled.join(' ')}\n`;
    },
  });
  const values = [['n', '1'], ['n', '21']];
  assert.deepEqual(tools.runCommand('double', { values, files: [] }), { text: '2 42\n', files: [] });
  const withFile = tools.runCommand('double', { values: [...values, ['json', 'true']], files: [] });
  assert.deepEqual(withFile.files, [{ param: 'out', name: 'doubled.json', content: new TextEncoder().encode('[2,42]') }]);
});

test('command input helpers', () => {
  const input = new CommandInput({ tenant: 'acme', values: [['a', '1']], files: [['f', new Uint8Array([1])]] });
  assert.equal(input.tenant, 'acme');
  assert.equal(input.value('a'), '1');
  assert.equal(input.value('b'), undefined);
  assert.equal(input.flag('a'), false);
  assert.deepEqual(input.file('f'), new Uint8Array([1]));
});

test('MockHost#call runs a plugin with only what its manifest declares', () => {
  const plugin = definePlugin({
    manifest: { name: 'probe', version: '1', events: ['customer-message'], settings: ['declared'] },
    handle() {
      kv.put('k', 'v');
      return [];
    },
  });
  const host = new MockHost().grantKv().setting('declared', 'yes').setting('undeclared', 'no');
  assert.throws(() => host.call(plugin, message()), /storage denied/, 'kv granted, but not asked for');

  const reader = definePlugin({
    manifest: { name: 'reader', version: '1', events: ['customer-message'], settings: ['declared'] },
    handle: () => [internalNote(JSON.stringify(settings.all()))],
  });
  assert.deepEqual(host.call(reader, message()), [internalNote('{"declared":"yes"}')]);
  assert.throws(() => host.call(reader, testEvent('ticket-solved')), /does not declare ticket-solved/);

  // The contact history is for commands run for a tenant, never for an event.
  const counter = definePlugin({
    manifest: { name: 'counter', version: '1', events: ['customer-message'] },
    handle: () => [internalNote(String(contacts.history(0, 1).length))],
  });
  const withHistory = new MockHost().contactHistory([]);
  assert.throws(() => withHistory.call(counter, message()), /only in commands/);
});

test('MockHost#call allows only declared hosts', () => {
  const fetcher = (outboundHosts) =>
    definePlugin({
      manifest: { name: 'f', version: '1', events: ['customer-message'], outboundHosts },
      handle: () => [internalNote(http.get('https://api.example.com:8443/x').text())],
    });
  const host = new MockHost().httpResponse('https://api.example.com:8443/x', 200, 'hi');
  assert.deepEqual(host.call(fetcher(['*.example.com']), message()), [internalNote('hi')]);
  assert.deepEqual(host.call(fetcher(['api.example.com:8443']), message()), [internalNote('hi')]);
  assert.throws(() => host.call(fetcher(['api.example.com:443']), message()), /request denied/);
  assert.throws(() => host.call(fetcher(['example.com']), message()), /request denied/);
  assert.throws(() => host.call(fetcher([]), message()), /request denied/);
  const defaultPort = new MockHost().httpResponse('https://api.example.com/x', 200, 'hi');
  const fetchDefault = definePlugin({
    manifest: { name: 'f', version: '1', events: ['customer-message'], outboundHosts: ['api.example.com:443'] },
    handle: () => [internalNote(http.get('https://api.example.com/x').text())],
  });
  assert.deepEqual(defaultPort.call(fetchDefault, message()), [internalNote('hi')]);
});

test('MockHost#call refuses the output the host refuses', () => {
  const answering = (actions) =>
    definePlugin({ manifest: { name: 'a', version: '1', events: ['customer-message'] }, handle: () => actions });
  const host = new MockHost();
  assert.throws(() => host.call(answering([replaceDraft('x')]), message()), /replace-draft on an event that has no draft/);
  assert.throws(() => host.call(answering([{ tag: 'add-tags', val: ['a b'] }]), message()), /invalid output: tag "a b"/);
  assert.throws(() => host.call(answering([{ tag: 'shout', val: 'x' }]), message()), /not an action/);
  assert.deepEqual(host.call(answering([addTags('ok')]), message()), [addTags('ok')]);
});
