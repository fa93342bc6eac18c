// Event helpers, and the test events of testing.js.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  agentLanguage,
  attribute,
  customerLanguage,
  EVENT_KINDS,
  eventKind,
  externalId,
  isKind,
  kindName,
  otherKind,
  primaryLanguage,
} from '../index.js';
import { testEvent } from '../testing.js';

test('the kinds are the nine of contract 0.2.1', () => {
  assert.equal(EVENT_KINDS.length, 9);
  assert.deepEqual(eventKind('ticket-solved'), { tag: 'ticket-solved' });
  assert.throws(() => eventKind('refund-issued'), /otherKind\('refund-issued'\)/);
  assert.throws(() => otherKind(''), /needs the kind name/);
});

test('a kind has a name, also when it is newer than the contract', () => {
  assert.equal(kindName({ tag: 'customer-message' }), 'customer-message');
  assert.equal(kindName(otherKind('refund-issued')), 'refund-issued');
  assert.ok(isKind(testEvent('refund-issued'), 'refund-issued'));
  assert.ok(!isKind(testEvent('ticket-solved'), 'ticket-created'));
});

test("the customer's language is the locale's first subtag", () => {
  const language = (locale) => customerLanguage(testEvent('customer-message', '', { customer: { locale } }));
  assert.equal(language('ja-JP'), 'ja');
  assert.equal(language('pt_BR'), 'pt');
  assert.equal(language('es'), 'es');
  assert.equal(language(undefined), undefined);
  assert.equal(language(''), undefined);
  assert.equal(customerLanguage(testEvent('customer-message')), undefined, 'no customer');
  assert.equal(primaryLanguage('zh-Hant-TW'), 'zh');
  assert.equal(primaryLanguage(undefined), undefined);
});

test("the agent's language, attributes and external ids", () => {
  const event = testEvent('satisfaction-rated', '', {
    agent: { workingLanguage: 'en-US' },
    customer: { externalIds: [['email', 'a@b.c']] },
    attributes: { 'csat.score': '4' },
  });
  assert.equal(agentLanguage(event), 'en');
  assert.equal(attribute(event, 'csat.score'), '4');
  assert.equal(attribute(event, 'missing'), undefined);
  assert.equal(externalId(event, 'email'), 'a@b.c');
  assert.equal(externalId(event, 'whatsapp'), undefined);
});

test('a test event has the contract shape, with bigints where the contract has s64', () => {
  const event = testEvent('customer-message', 'Hola', { customer: { locale: 'es-MX' }, occurredAtMs: 5 });
  assert.deepEqual(event, {
    tenantId: 'test',
    eventId: 'test-1',
    ticketId: 'ticket-1',
    channel: 'web-chat',
    kind: { tag: 'customer-message' },
    text: 'Hola',
    customer: { id: 'customer-1', externalIds: [], locale: 'es-MX' },
    agent: undefined,
    occurredAtMs: 5n,
    attributes: [],
  });
});
