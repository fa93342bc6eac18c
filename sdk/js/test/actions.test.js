// The action constructors: one per variant of the contract's `action`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  addTags,
  autoReply,
  flagForReview,
  internalNote,
  recommend,
  recommendation,
  replaceDraft,
  route,
  setFields,
} from '../index.js';

test('every variant of contract 0.2.1 has a constructor with its shape', () => {
  assert.deepEqual(internalNote('Translated: Hello'), { tag: 'internal-note', val: 'Translated: Hello' });
  assert.deepEqual(replaceDraft('Hola'), { tag: 'replace-draft', val: 'Hola' });
  assert.deepEqual(addTags('vip', 'lang-es'), { tag: 'add-tags', val: ['vip', 'lang-es'] });
  assert.deepEqual(setFields({ priority: 'high' }), { tag: 'set-fields', val: [['priority', 'high']] });
  assert.deepEqual(recommend([{ kind: 'article', id: 'kb-7', title: 'Autofocus', score: 0.8 }]), {
    tag: 'recommend',
    val: [{ kind: 'article', id: 'kb-7', title: 'Autofocus', reason: '', score: 0.8 }],
  });
  assert.deepEqual(route({ group: 'es-support', reason: 'speaks Spanish' }), {
    tag: 'route',
    val: { group: 'es-support', agentId: undefined, priority: undefined, reason: 'speaks Spanish' },
  });
  assert.deepEqual(autoReply('Thanks!'), { tag: 'auto-reply', val: 'Thanks!' });
  assert.deepEqual(flagForReview('politics', 'mentions an election'), {
    tag: 'flag-for-review',
    val: { category: 'politics', reason: 'mentions an election' },
  });
});

test('tags come as arguments or arrays, without whitespace', () => {
  assert.deepEqual(addTags(['a', 'b'], 'c').val, ['a', 'b', 'c']);
  assert.throws(() => addTags('two words'), /tag "two words" is empty or has whitespace/);
  assert.throws(() => addTags(''), /is empty or has whitespace/);
  assert.throws(() => addTags('tab\there'), /whitespace/);
});

test('fields come as an object or pairs, with names', () => {
  assert.deepEqual(setFields([['a', '1']]).val, [['a', '1']]);
  assert.throws(() => setFields({ '': 'x' }), /a field has an empty name/);
  assert.throws(() => setFields({ count: 3 }), /value of 'count' in fields must be a string/);
});

test('a recommendation needs a finite score', () => {
  assert.equal(recommendation({ kind: 'product', id: 'p', title: 'T', reason: 'r', score: 1 }).reason, 'r');
  assert.throws(() => recommend([{ kind: 'product', id: 'p', title: 'T', score: Number.NaN }]), /finite number/);
  assert.throws(() => recommend([{ kind: 'product', id: 'p', title: 'T' }]), /finite number/);
});

test('text must be text', () => {
  assert.throws(() => internalNote(42), /an internal note must be a string/);
  assert.throws(() => route({ group: 7 }), /a group must be a string/);
});
