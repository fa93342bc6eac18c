// The plugin's logic under Node, without the host: the pure function directly,
// and `handle` through the SDK's stand-in host, which gives it only the settings
// its manifest declares and refuses what the real host would refuse.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { addTags, internalNote } from '@crossdesk/plugin-sdk';
import { MockHost, testEvent } from '@crossdesk/plugin-sdk/testing';

import * as plugin from '../src/plugin.js';

const message = (locale) => testEvent('customer-message', 'Hola, ¿dónde está mi pedido?', { customer: { locale } });

test('a foreign language gets a tag and a note', () => {
  assert.deepEqual(plugin.languageActions(message('es-MX')), [
    addTags('lang-es'),
    internalNote("Language: the customer writes in 'es', not 'en'."),
  ]);
});

test("the team's own language gets only the tag", () => {
  assert.deepEqual(plugin.languageActions(message('pt_BR'), { homeLanguage: 'pt-BR' }), [addTags('lang-pt')]);
});

test('no locale, no actions', () => {
  assert.deepEqual(plugin.languageActions(message(undefined)), []);
});

test('handle reads the settings an admin gave', () => {
  const host = new MockHost().setting('home_language', 'de').setting('note_prefix', 'Sprache').install();
  assert.deepEqual(host.call(plugin, message('es-MX')), [
    addTags('lang-es'),
    internalNote("Sprache: the customer writes in 'es', not 'de'."),
  ]);
});

test('without settings, the defaults apply', () => {
  const host = new MockHost().install();
  assert.deepEqual(host.call(plugin, message('en-GB')), [addTags('lang-en')]);
});

test('the manifest asks for nothing but its settings', () => {
  const manifest = plugin.handler.manifest();
  assert.deepEqual(manifest.events, [{ tag: 'customer-message' }]);
  assert.deepEqual(manifest.capabilities, {
    kv: false,
    outboundHosts: [],
    settings: ['home_language: language', 'note_prefix: string'],
  });
});
