// @crossdesk/plugin-sdk: write Crossdesk plugins in JavaScript against contract
// crossdesk:plugin@0.2.1 (the WIT in ../wit, shipped in the package's wit/).
//
//     import { definePlugin, addTags, customerLanguage } from '@crossdesk/plugin-sdk';
//
//     export const { handler, tools } = definePlugin({
//       manifest: { name: 'tagger', version: '0.1.0', events: ['customer-message'] },
//       handle: (event) => [addTags(`lang-${customerLanguage(event) ?? 'und'}`)],
//     });
//
// Build it into a component with `crossdesk-js-build src/plugin.js plugin.wasm`;
// test it under Node with `@crossdesk/plugin-sdk/testing`. Types: index.d.ts.

/** The version of the plugin contract (`crossdesk:plugin`) this SDK builds against. */
export const CONTRACT_VERSION = '0.2.1';

export { definePlugin, CommandInput } from './lib/plugin.js';
export { manifest, dataset, command, param } from './lib/manifest.js';
export { setting } from './lib/declarations.js';
export {
  internalNote,
  replaceDraft,
  addTags,
  setFields,
  recommendation,
  recommend,
  route,
  autoReply,
  flagForReview,
} from './lib/actions.js';
export {
  EVENT_KINDS,
  eventKind,
  otherKind,
  kindName,
  isKind,
  primaryLanguage,
  customerLanguage,
  agentLanguage,
  attribute,
  externalId,
} from './lib/events.js';
export { settings, kv, http, HttpResponse, log, clock, contacts } from './lib/capabilities.js';
export { PluginError, KvError, HttpError, ContactsError } from './lib/errors.js';
