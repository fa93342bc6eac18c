// The host capabilities against the MockHost, which answers (through
// lib/host/native.js) with the values and errors of the component's bindings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import vm from 'node:vm';

import { clock, contacts, ContactsError, definePlugin, http, HttpError, kv, KvError, log, settings } from '../index.js';
import { MockHost, testEvent } from '../testing.js';

test('settings: raw, all, and read by their declared types', () => {
  new MockHost()
    .setting('greeting', 'Hola')
    .setting('max', 7)
    .setting('loud', true)
    .setting('spoken', ' es, pt-BR ,en')
    .setting('trailing', 'en, fr,')
    .install();
  assert.equal(settings.get('greeting'), 'Hola');
  assert.equal(settings.get('missing'), undefined);
  assert.deepEqual(settings.all(), {
    greeting: 'Hola',
    max: '7',
    loud: 'true',
    spoken: ' es, pt-BR ,en',
    trailing: 'en, fr,',
  });
  assert.equal(settings.int('max'), 7);
  assert.equal(settings.int('missing'), undefined);
  assert.throws(() => settings.int('greeting'), /not a whole number/);
  assert.equal(settings.bool('loud'), true);
  assert.throws(() => settings.bool('max'), /not true or false/);
  assert.deepEqual(settings.list('spoken'), ['es', 'pt-BR', 'en']);
  assert.deepEqual(settings.list('missing'), []);
  assert.deepEqual(settings.list('trailing'), ['en', 'fr'], 'an empty item is dropped, as in Rust');
});

test('kv is denied unless granted, as the host denies it', () => {
  new MockHost().install();
  assert.throws(
    () => kv.put('k', 'v'),
    (e) => e instanceof KvError && e.kind === 'denied' && /^storage denied: /.test(e.message),
  );
  assert.throws(() => kv.get('k'), KvError);
});

test('kv lists every key past one listing of the host', () => {
  new MockHost().grantKv().install();
  const count = kv.MAX_LISTED + 5;
  for (let n = 0; n < count; n++) {
    kv.put(`h/${n.toString(16)}`, '');
  }
  kv.put('h/', 'the prefix itself');
  assert.equal(kv.listKeys('h/').length, kv.MAX_LISTED);
  const all = kv.listAllKeys('h/', '0123456789abcdef');
  assert.equal(all.length, count + 1);
  assert.equal(all[0], 'h/');
  assert.deepEqual(all, [...all].sort());
});

test('kv stores bytes, text and JSON, and lists keys in order', () => {
  const host = new MockHost().grantKv().install();
  kv.put('profile:2', new Uint8Array([1, 2]));
  kv.put('profile:1', 'uno');
  kv.putJson('other', { visits: 3 });
  assert.deepEqual(kv.get('profile:2'), new Uint8Array([1, 2]));
  assert.equal(kv.getText('profile:1'), 'uno');
  assert.deepEqual(kv.getJson('other'), { visits: 3 });
  assert.equal(kv.get('missing'), undefined);
  assert.equal(kv.getJson('missing'), undefined);
  assert.deepEqual(kv.listKeys('profile:'), ['profile:1', 'profile:2']);
  kv.delete('profile:1');
  kv.delete('never-there');
  assert.deepEqual(kv.listKeys(), ['other', 'profile:2']);
  assert.equal(host.kvText('other'), '{"visits":3}');
  // By UTF-8 bytes, as the host lists them: U+FF71 before an emoji, whose
  // UTF-16 units sort first.
  kv.put('\uFF71', 'a');
  kv.put('😀', 'b');
  assert.deepEqual(kv.listKeys(), ['other', 'profile:2', '\uFF71', '😀']);
  assert.throws(() => kv.put('k', 42), /a stored value must be a string or a Uint8Array/);
});

test('kv holds a plugin to the limits of the host', () => {
  new MockHost().grantKv().install();
  const tooLarge = (e) => e instanceof KvError && e.kind === 'too-large';
  assert.throws(() => kv.put('k'.repeat(513), 'v'), tooLarge);
  assert.throws(() => kv.get('k'.repeat(513)), tooLarge);
  assert.throws(() => kv.put('k', new Uint8Array((1 << 20) + 1)), tooLarge);
  assert.throws(() => kv.compareAndSwap('k', null, new Uint8Array((1 << 20) + 1)), tooLarge);
  kv.put('k'.repeat(512), new Uint8Array(1 << 20));
  assert.equal(kv.get('k'.repeat(512)).length, 1 << 20);
  const nul = (e) => e instanceof KvError && e.kind === 'backend' && /NUL/.test(e.message);
  assert.throws(() => kv.put('a\0b', 'v'), nul);
  assert.throws(() => kv.listKeys('a\0'), nul);
});

test('compareAndSwap writes only over the value expected', () => {
  const host = new MockHost().grantKv().install();
  assert.equal(kv.compareAndSwap('n', null, '1'), true, 'absent, as expected');
  assert.equal(kv.compareAndSwap('n', undefined, '1'), false, 'not absent any more');
  assert.equal(kv.compareAndSwap('n', '2', '3'), false, 'holds 1, not 2');
  assert.equal(host.kvText('n'), '1');
  assert.equal(kv.compareAndSwap('n', new Uint8Array([0x31]), new Uint8Array([7, 8])), true, "'1' is 0x31");
  assert.deepEqual(kv.get('n'), new Uint8Array([7, 8]));
  assert.equal(kv.compareAndSwap('n', new Uint8Array([7]), null), false, 'a prefix is not the value');
  assert.equal(kv.compareAndSwap('n', new Uint8Array([7, 8]), null), true, 'deleted');
  assert.equal(kv.get('n'), undefined);
  assert.equal(kv.compareAndSwap('n', null, null), true, 'absent stays absent');
  assert.equal(kv.compareAndSwap('e', null, ''), true, 'an empty value is a value');
  assert.equal(kv.compareAndSwap('e', null, 'x'), false);
  assert.throws(() => kv.compareAndSwap('n', null, 42), /a stored value must be a string or a Uint8Array/);
});

test('settings.int refuses a value a number would round', () => {
  new MockHost().setting('big', '9007199254740993').setting('edge', '-9007199254740991').install();
  assert.throws(() => settings.int('big'), RangeError);
  assert.equal(settings.int('edge'), -Number.MAX_SAFE_INTEGER);
});

test('update reads, changes and writes, deleting on null', () => {
  const host = new MockHost().grantKv().install();
  const seen = [];
  const bump = (old) => {
    seen.push(old);
    return String(Number(old === undefined ? 0 : new TextDecoder().decode(old)) + 1);
  };
  assert.deepEqual(kv.update('visits', bump), new TextEncoder().encode('1'));
  assert.deepEqual(kv.update('visits', bump), new TextEncoder().encode('2'));
  assert.deepEqual(seen, [undefined, new TextEncoder().encode('1')]);
  assert.equal(kv.update('visits', () => null), undefined);
  assert.equal(host.kvValue('visits'), undefined);
  assert.equal(kv.update('never-there', () => undefined), undefined);
});

test('update may change the bytes it is given in place', () => {
  const host = new MockHost().grantKv().install();
  kv.put('n', new Uint8Array([1]));
  const written = kv.update('n', (old) => {
    old[0] += 1;
    return old;
  });
  assert.deepEqual(written, new Uint8Array([2]));
  assert.deepEqual(host.kvValue('n'), new Uint8Array([2]));
});

test('update runs change again when another writer changed the key meanwhile', () => {
  const host = new MockHost().grantKv().install();
  kv.put('count', '10');
  const olds = [];
  const written = kv.update('count', (old) => {
    olds.push(new TextDecoder().decode(old));
    if (olds.length === 1) {
      // Another event's write, between this update's read and its swap.
      kv.put('count', '20');
    }
    return String(Number(new TextDecoder().decode(old)) + 1);
  });
  assert.deepEqual(olds, ['10', '20']);
  assert.deepEqual(written, new TextEncoder().encode('21'));
  assert.equal(host.kvText('count'), '21', "the other writer's update is not lost");
});

test('update gives up after UPDATE_ATTEMPTS when the key keeps changing', () => {
  const host = new MockHost().grantKv().install();
  let calls = 0;
  assert.throws(
    () =>
      kv.update('hot', () => {
        calls += 1;
        kv.put('hot', `other-${calls}`);
        return 'mine';
      }),
    (e) =>
      e instanceof KvError &&
      e.kind === 'backend' &&
      e.message === "storage failed: 'hot' kept changing: 64 attempts to update it failed",
  );
  assert.equal(kv.UPDATE_ATTEMPTS, 64);
  assert.equal(calls, kv.UPDATE_ATTEMPTS);
  assert.equal(host.kvText('hot'), `other-${kv.UPDATE_ATTEMPTS}`);
});

test('updateJson changes a JSON value; undefined deletes it, null is stored', () => {
  const host = new MockHost().grantKv().install();
  const add = (tag) => (counts = {}) => ({ ...counts, [tag]: (counts[tag] ?? 0) + 1 });
  assert.deepEqual(kv.updateJson('tags', add('vip')), { vip: 1 });
  let first = true;
  const written = kv.updateJson('tags', (counts) => {
    if (first) {
      // Another writer in between, once: the retry must build on what it wrote.
      first = false;
      kv.putJson('tags', { vip: 5, new: 1 });
    }
    return add('vip')(counts);
  });
  assert.deepEqual(written, { vip: 6, new: 1 }, 'what the try that was written returned');
  assert.deepEqual(kv.getJson('tags'), { vip: 6, new: 1 });
  assert.deepEqual(kv.updateJson('tags', ({ vip }) => ({ vip })), { vip: 6 });
  assert.deepEqual(kv.getJson('tags'), { vip: 6 });
  assert.equal(kv.updateJson('tags', () => null), null);
  assert.equal(host.kvText('tags'), 'null');
  assert.equal(kv.updateJson('tags', () => undefined), undefined);
  assert.equal(host.kvValue('tags'), undefined);
});

test("bytes of another realm are bytes: inside the component, kv.get's are", () => {
  const host = new MockHost().grantKv().install();
  const foreign = (...values) => vm.runInNewContext(`new Uint8Array([${values}])`);
  assert.equal(foreign(1) instanceof Uint8Array, false);
  kv.put('n', foreign(0x31));
  assert.equal(kv.get('n') instanceof Uint8Array, false, 'what the stand-in returns is of that realm too');
  assert.deepEqual(kv.update('n', (old) => String(Number(new TextDecoder().decode(old)) + 1)), new TextEncoder().encode('2'));
  assert.equal(kv.compareAndSwap('n', foreign(0x31), 'x'), false);
  assert.equal(kv.compareAndSwap('n', foreign(0x32), foreign(0x33)), true);
  assert.equal(host.kvText('n'), '3');
});

test('compareAndSwap and update are denied without the kv grant, and on read-only keys', () => {
  new MockHost().install();
  const denied = (e) => e instanceof KvError && e.kind === 'denied';
  assert.throws(() => kv.compareAndSwap('k', null, 'v'), denied);
  let called = false;
  assert.throws(
    () =>
      kv.update('k', () => {
        called = true;
        return 'v';
      }),
    denied,
  );
  assert.equal(called, false, 'the read is refused before change runs');

  new MockHost().readableKv('recommend', 'kb/1', '{}').install();
  assert.throws(() => kv.compareAndSwap('@recommend/kb/1', '{}', 'x'), (e) => denied(e) && /read-only/.test(e.message));
  assert.throws(() => kv.update('@recommend/kb/1', () => 'x'), /read-only/);
});

test('a plugin whose manifest does not ask for kv cannot compare-and-swap, even when granted', () => {
  const plugin = definePlugin({
    manifest: { name: 'no-kv', version: '1.0.0', events: ['customer-message'] },
    handle() {
      kv.compareAndSwap('k', null, 'v');
      return [];
    },
  });
  const host = new MockHost().grantKv();
  assert.throws(() => host.call(plugin, testEvent('customer-message', 'hi')), /storage denied/);
  assert.equal(host.kvValue('k'), undefined);
});

test("another plugin's storage is readable when granted, and never writable", () => {
  new MockHost().readableKv('recommend', 'kb/article/1', '{}').install();
  assert.equal(kv.getText('@recommend/kb/article/1'), '{}');
  assert.deepEqual(kv.listKeys('@recommend/kb/'), ['@recommend/kb/article/1']);
  assert.throws(() => kv.put('@recommend/kb/article/1', 'x'), /read-only/);
  assert.throws(() => kv.get('@other/x'), /reading the storage of plugin 'other' is not granted/);
});

test('http reaches only the URLs the host answers; errors say whether to retry', () => {
  const host = new MockHost()
    .httpResponse('https://api.example.com/v1', 200, '{"ok":true}', [['Content-Type', 'application/json']])
    .install();
  const response = http.post('https://api.example.com/v1', 'q=1', { headers: { accept: 'application/json' } });
  assert.equal(response.status, 200);
  assert.ok(response.ok);
  assert.equal(response.header('content-type'), 'application/json');
  assert.deepEqual(response.json(), { ok: true });
  assert.deepEqual(host.requests()[0], {
    method: 'POST',
    url: 'https://api.example.com/v1',
    headers: [['accept', 'application/json']],
    body: new TextEncoder().encode('q=1'),
  });

  assert.throws(
    () => http.get('https://elsewhere.example/'),
    (e) => e instanceof HttpError && e.kind === 'denied' && !e.retryable && /^request denied: /.test(e.message),
  );
  assert.throws(() => http.get('not a url'), (e) => e.kind === 'invalid-request');
  // Headers the host sets itself are refused, as the host refuses them.
  assert.throws(
    () => http.get('https://api.example.com/v1', { headers: { Connection: 'close' } }),
    (e) => e.kind === 'denied' && /header 'connection' is set by the host/.test(e.message),
  );
  const many = Array.from({ length: 101 }, (_, i) => [`x-${i}`, '1']);
  assert.throws(() => http.get('https://api.example.com/v1', { headers: many }), (e) => e.kind === 'invalid-request');
  assert.ok(new HttpError('timeout').retryable);
  assert.ok(new HttpError('transport', 'reset').retryable);
  assert.equal(new HttpError('too-large').message, 'response too large');
});

test('log lines reach the host with their level', () => {
  const host = new MockHost().install();
  log.info('looked up the profile');
  log.warn({ toString: () => 'odd input' });
  log.log('trace', 'x');
  assert.deepEqual(host.logs(), [
    ['info', 'looked up the profile'],
    ['warn', 'odd input'],
    ['trace', 'x'],
  ]);
  // The component's bindings refuse any other level: so do the tests.
  assert.throws(() => log.log('warning', 'x'), /must be one of trace, debug, info, warn, error/);
  assert.equal(host.logs().length, 3);
});

test('the clock is the host clock, as a number', () => {
  new MockHost().nowMs(1_700_000_000_000).install();
  assert.equal(clock.nowMs(), 1_700_000_000_000);
});

test('the contact history is readable only when the host allows it', () => {
  new MockHost().install();
  assert.throws(() => contacts.history(0, 1), (e) => e instanceof ContactsError && /only in commands/.test(e.message));
  const count = { bucketStartMs: 900_000, language: 'es', channel: 'email', arrivals: 3, handled: 2, handleSecs: 400 };
  new MockHost().contactHistory([count, { ...count, bucketStartMs: 1_800_000 }]).install();
  assert.deepEqual(contacts.history(0, 1_800_000), [count]);
  assert.deepEqual(contacts.history(0n, 10n), []);
  // Oldest first, then by language, as the host answers, whatever the order given.
  const later = { ...count, bucketStartMs: 1_800_000 };
  const english = { ...count, language: 'en' };
  new MockHost().contactHistory([later, count, english]).install();
  assert.deepEqual(
    contacts.history(0, 3_600_000).map((c) => [c.bucketStartMs, c.language]),
    [[900_000, 'en'], [900_000, 'es'], [1_800_000, 'es']],
  );
});
