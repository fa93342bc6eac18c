// What a plugin asks the helpdesk to do: one constructor per variant of the
// contract's `action`, each returning the variant in the contract's shape and
// refusing what the host would refuse (a tag with whitespace, a score that is not
// a finite number), so the mistake shows in the author's tests.

function text(value, what) {
  if (typeof value !== 'string') {
    throw new TypeError(`${what} must be a string, got ${typeof value}`);
  }
  return value;
}

/** `[name, value]` pairs from pairs or from a plain object. */
export function pairs(value, what) {
  const entries = Array.isArray(value) ? value : Object.entries(value ?? {});
  return entries.map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new TypeError(`${what} must be an object or [name, value] pairs`);
    }
    return [text(entry[0], `a name in ${what}`), text(entry[1], `the value of '${entry[0]}' in ${what}`)];
  });
}

/** A note only agents see. */
export function internalNote(note) {
  return { tag: 'internal-note', val: text(note, 'an internal note') };
}

/** Replaces the agent's reply draft; only on `agent-reply-drafted` events. */
export function replaceDraft(draft) {
  return { tag: 'replace-draft', val: text(draft, 'a draft') };
}

/** Adds tags to the ticket: `addTags('vip', 'lang-es')` or `addTags(['vip'])`. */
export function addTags(...tags) {
  const all = tags.flat();
  for (const tag of all) {
    if (typeof tag !== 'string' || tag === '' || /\s/u.test(tag)) {
      throw new TypeError(`tag ${JSON.stringify(tag)} is empty or has whitespace`);
    }
  }
  return { tag: 'add-tags', val: all };
}

/** Sets ticket fields, from an object (`{ priority: 'high' }`) or pairs. */
export function setFields(fields) {
  const val = pairs(fields, 'fields');
  if (val.some(([name]) => name === '')) {
    throw new TypeError('a field has an empty name');
  }
  return { tag: 'set-fields', val };
}

/** One suggestion for `recommend`: a product, article or answer, best scored highest. */
export function recommendation({ kind, id, title, reason = '', score }) {
  if (typeof score !== 'number' || !Number.isFinite(score)) {
    throw new TypeError(`the score of recommendation '${id}' must be a finite number, got ${score}`);
  }
  return {
    kind: text(kind, 'a recommendation kind'),
    id: text(id, 'a recommendation id'),
    title: text(title, 'a recommendation title'),
    reason: text(reason, 'a recommendation reason'),
    score,
  };
}

/** Suggests products, articles or answers to the agent. */
export function recommend(items) {
  return { tag: 'recommend', val: items.map(recommendation) };
}

/** Routes the conversation to a group or an agent, with a priority; `reason` is shown to agents. */
export function route({ group, agentId, priority, reason = '' }) {
  const optional = (value, what) => (value === undefined ? undefined : text(value, what));
  return {
    tag: 'route',
    val: {
      group: optional(group, 'a group'),
      agentId: optional(agentId, 'an agent id'),
      priority: optional(priority, 'a priority'),
      reason: text(reason, 'a routing reason'),
    },
  };
}

/** Answers the customer at once, without an agent. */
export function autoReply(reply) {
  return { tag: 'auto-reply', val: text(reply, 'an auto reply') };
}

/** Asks that a human reviews the reply before it is sent. */
export function flagForReview(category, reason) {
  return {
    tag: 'flag-for-review',
    val: { category: text(category, 'a review category'), reason: text(reason, 'a review reason') },
  };
}

const VARIANTS = [
  'internal-note',
  'replace-draft',
  'add-tags',
  'set-fields',
  'recommend',
  'route',
  'auto-reply',
  'flag-for-review',
];
const RECHECK = { 'add-tags': addTags, 'set-fields': setFields, recommend };

/**
 * What the host refuses in a plugin's answer to `event`, as a message, or
 * undefined when it would take it. The constructors above already refuse most
 * of it; this also catches hand-built actions and a draft replaced on an event
 * that has none.
 */
export function invalidOutput(actions, event) {
  if (!Array.isArray(actions)) {
    return `handle must return an array of actions, got ${typeof actions}`;
  }
  for (const action of actions) {
    if (!VARIANTS.includes(action?.tag)) {
      return `not an action: ${JSON.stringify(action)}`;
    }
    if (action.tag === 'replace-draft' && event.kind.tag !== 'agent-reply-drafted') {
      return 'invalid output: replace-draft on an event that has no draft';
    }
    try {
      // The constructors' own checks, run again on what the plugin returned.
      RECHECK[action.tag]?.(action.val);
    } catch (error) {
      return `invalid output: ${error.message}`;
    }
  }
  return undefined;
}
