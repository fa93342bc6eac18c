// The host capabilities against the MockHost, which answers (through
// lib/host/native.js) with the values and errors of the component's bindings.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clock, contacts, ContactsError, http, HttpError, kv, KvError, log, settings } from '../index.js';
import { MockHost } from '../testing.js';

test('settings: raw, all, and read by their declared types', () => {
  new MockHost()
    .setting('greeting', 'Hola')
    .setting('max', 7)
    .setting('loud', true)
    .setting('spoken', ' es, pt-BR ,en')
    .install();
  assert.equal(settings.get('greeting'), 'Hola');
  assert.equal(settings.get('missing'), undefined);
  assert.deepEqual(settings.all(), { greeting: 'Hola', max: '7', loud: 'true', spoken: ' es, pt-BR ,en' });
  assert.equal(settings.int('max'), 7);
  assert.equal(settings.int('missing'), undefined);
  assert.throws(() => settings.int('greeting'), /not a whole number/);
  assert.equal(settings.bool('loud'), true);
  assert.throws(() => settings.bool('max'), /not true or false/);
  assert.deepEqual(settings.list('spoken'), ['es', 'pt-BR', 'en']);
  assert.deepEqual(settings.list('missing'), []);
});

test('kv is denied unless granted, as the host denies it', () => {
  new MockHost().install();
  assert.throws(
    () => kv.put('k', 'v'),
    (e) => e instanceof KvError && e.kind === 'denied' && /^storage denied: /.test(e.message),
  );
  assert.throws(() => kv.get('k'), KvError);
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
  assert.throws(() => kv.put('k', 42), /a stored value must be a string or a Uint8Array/);
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
});
