// Testing a plugin under Node, without the host: a stand-in host that answers
// the SDK's capabilities (settings, kv, http, log, clock, contacts) and an event
// builder.
//
//     const host = new MockHost().setting('home_language', 'en').install();
//     const actions = host.call(plugin, testEvent('customer-message', 'Hola', { customer: { locale: 'es-MX' } }));

import { eventKind, otherKind, EVENT_KINDS } from './lib/events.js';
import { pairs } from './lib/actions.js';

export { MockHost } from './lib/mock-host.js';

/**
 * An event of `kind` (a name, or `otherKind(name)`) with `text`, in the
 * contract's shape; `fields` sets the rest (a partial `customer` or `agent`,
 * `attributes` as an object or pairs, `occurredAtMs` as a number or bigint).
 */
export function testEvent(kind, text = '', fields = {}) {
  const { customer, agent, attributes = [], occurredAtMs = 0, ...rest } = fields;
  return {
    tenantId: 'test',
    eventId: 'test-1',
    ticketId: 'ticket-1',
    channel: 'web-chat',
    ...rest,
    kind: typeof kind === 'string' ? (EVENT_KINDS.includes(kind) ? eventKind(kind) : otherKind(kind)) : kind,
    text,
    customer: customer && { id: 'customer-1', externalIds: [], ...customer },
    agent: agent && { id: 'agent-1', ...agent },
    occurredAtMs: BigInt(occurredAtMs),
    attributes: pairs(attributes, 'attributes'),
  };
}
