// Compiled (not run) by `npm run check-types`: uses the SDK's declarations the way
// a TypeScript plugin would, so that index.d.ts and testing.d.ts agree with the
// types generated from the WIT.

import {
  addTags,
  command,
  customerLanguage,
  dataset,
  definePlugin,
  flagForReview,
  internalNote,
  kv,
  param,
  PluginError,
  recommend,
  replaceDraft,
  route,
  setFields,
  setting,
  settings,
  autoReply,
  type Action,
  type Event,
} from '@crossdesk/plugin-sdk';
import { MockHost, testEvent } from '@crossdesk/plugin-sdk/testing';
import type * as witHandler from 'crossdesk:plugin/handler@0.2.1';

const plugin = definePlugin({
  manifest: {
    name: 'usage',
    version: '1.0.0',
    events: ['customer-message', 'agent-reply-drafted'],
    kv: true,
    settings: ['greeting', setting.int('max', { min: 1, max: 10 }), setting.oneOf('tone', ['formal', 'casual'])],
    datasets: [dataset('faq', 'Canned answers')],
    commands: [command('stats', 'Prints statistics', { params: [param.flag('json', 'Print JSON')] })],
  },
  handle(event: Event): Action[] {
    if (event.text === '') {
      throw new PluginError('empty message');
    }
    kv.put('last', event.text);
    const owned: boolean = kv.compareAndSwap('owner', null, event.text);
    const flag: Uint8Array | undefined = kv.update('flag', (old) => (old === undefined ? new Uint8Array([1]) : null));
    const seen: number | undefined = kv.updateJson<number>('seen', (n) => (n ?? 0) + 1);
    return [
      internalNote(`${settings.get('greeting') ?? 'Hi'} (${customerLanguage(event) ?? 'und'})`),
      internalNote(`owned: ${owned}, flag: ${flag !== undefined}, seen ${seen} times`),
      addTags('a', ['b', 'c']),
      setFields({ priority: 'high' }),
      recommend([{ kind: 'article', id: 'kb-1', title: 'Returns', score: 0.5 }]),
      route({ group: 'es-support', reason: 'speaks Spanish' }),
      autoReply('Thanks!'),
      flagForReview('politics', 'mentions an election'),
      replaceDraft('Hello'),
    ];
  },
  importDataset: (name, _format, content) => ({ prefix: `${name}/`, entries: [[`${name}/1`, content]] }),
  runCommand: (_command, input) => (input.flag('json') ? '{}' : 'stats'),
});

// The exports have the shapes of the contract's generated interfaces.
export const handler: { manifest: typeof witHandler.manifest; handle: typeof witHandler.handle } = plugin.handler;
export const tools = plugin.tools;

const host = new MockHost().grantKv().setting('greeting', 'Hola').install();
export const actions: Action[] = host.call(plugin, testEvent('customer-message', 'Hola', { customer: { locale: 'es' } }));
