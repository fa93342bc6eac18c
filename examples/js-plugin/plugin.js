// A Crossdesk plugin in JavaScript: the same contract (sdk/wit/crossdesk-plugin@0.1.0)
// as the Rust plugins, built into a component by componentize-js (see build.mjs).
//
// On a customer message it tags messages written in capitals as "shouting" and leaves
// the agent a note with the message's length in words, using the tenant's `prefix`
// setting for the note.
import { get as configGet } from 'crossdesk:plugin/config@0.1.0';

export const handler = {
  manifest() {
    return {
      name: 'js-plugin',
      version: '0.1.0',
      description: 'Flags shouting customers and counts words (written in JavaScript)',
      events: [{ tag: 'customer-message' }],
      capabilities: { kv: false, outboundHosts: [], configKeys: ['prefix'] },
      cacheable: true,
    };
  },

  handle(event) {
    const words = event.text.split(/\s+/).filter((w) => w.length > 0);
    const letters = event.text.replace(/[^A-Za-z]/g, '');
    const shouting = letters.length >= 8 && letters === letters.toUpperCase();
    const prefix = configGet('prefix') ?? 'JS plugin';
    const actions = [
      { tag: 'internal-note', val: `${prefix}: ${words.length} words from ${event.customer?.id ?? 'an unknown customer'}` },
    ];
    if (shouting) {
      actions.push({ tag: 'add-tags', val: ['shouting'] });
    }
    return actions;
  },
};
