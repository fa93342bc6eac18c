// What a plugin reads from an event: its kind by name, the customer's and the
// agent's language, attributes and external ids. Events arrive in the contract's
// shape (`crossdesk:plugin/types@0.2.1`, see types/), so these are plain functions
// over that shape rather than a class of our own.

/** The event kinds of contract 0.2.1, by their contract names. */
export const EVENT_KINDS = Object.freeze([
  'customer-message',
  'agent-reply-drafted',
  'ticket-created',
  'ticket-solved',
  'satisfaction-rated',
  'customer-registered',
  'purchase-recorded',
  'profile-updated',
  'translation-corrected',
]);

/** The contract's variant for a known kind name, e.g. `{ tag: 'ticket-solved' }`. */
export function eventKind(name) {
  if (!EVENT_KINDS.includes(name)) {
    // A typo would otherwise subscribe to nothing without a word.
    throw new TypeError(
      `unknown event kind '${name}'; expected one of ${EVENT_KINDS.join(', ')}, ` +
        `or otherKind('${name}') for a kind added after contract 0.2.1`,
    );
  }
  return { tag: name };
}

/** A kind added after contract 0.2.1, by its proto name (e.g. `refund-issued`). */
export function otherKind(name) {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError('otherKind needs the kind name, e.g. otherKind("refund-issued")');
  }
  return { tag: 'other', val: name };
}

/** The name of an event kind: `'customer-message'`, or the name an `other` kind carries. */
export function kindName(kind) {
  return kind.tag === 'other' ? kind.val : kind.tag;
}

/** Whether `event` is of the kind named `name`. */
export function isKind(event, name) {
  return kindName(event.kind) === name;
}

/** The language subtag of a BCP 47 tag: `'ja'` for `ja-JP`, `'pt'` for `pt_BR`; undefined for none. */
export function primaryLanguage(tag) {
  const language = tag?.split(/[-_]/)[0];
  return language ? language : undefined;
}

/** The customer's language from their locale (`'es'` for `es-MX`), if known. */
export function customerLanguage(event) {
  return primaryLanguage(event.customer?.locale);
}

/** The language the agent works in (`'en'` for `en-US`), if known. */
export function agentLanguage(event) {
  return primaryLanguage(event.agent?.workingLanguage);
}

/** The value of the integrator's attribute `key` (e.g. `csat.score`), if present. */
export function attribute(event, key) {
  return event.attributes.find(([k]) => k === key)?.[1];
}

/** The customer's identity on another channel (`'email'`, `'whatsapp'`), if known. */
export function externalId(event, channel) {
  return event.customer?.externalIds.find(([c]) => c === channel)?.[1];
}
