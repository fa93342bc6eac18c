// A Crossdesk plugin: tags every customer message with the customer's language
// (`lang-es`), and when that is not the language the team works in, leaves the
// agents a note saying so.
//
// Settings (an admin sets them per tenant):
//   home_language  the team's language, e.g. `en` (the default) or `pt-BR`
//   note_prefix    how the note starts (default "Language")
//
// The decision is a pure function of the event and the settings, so the tests
// can call it directly; `handle` only reads the settings and calls it.

import {
  addTags,
  customerLanguage,
  definePlugin,
  internalNote,
  primaryLanguage,
  setting,
  settings,
} from '@crossdesk/plugin-sdk';

/** The actions for `event`, given the team's language and the note's prefix. */
export function languageActions(event, { homeLanguage = 'en', notePrefix = 'Language' } = {}) {
  const language = customerLanguage(event)?.toLowerCase();
  if (language === undefined) {
    return [];
  }
  const actions = [addTags(`lang-${language}`)];
  const home = primaryLanguage(homeLanguage)?.toLowerCase();
  if (language !== home) {
    actions.push(internalNote(`${notePrefix}: the customer writes in '${language}', not '${home}'.`));
  }
  return actions;
}

export const { handler, tools } = definePlugin({
  manifest: {
    name: '{{name}}',
    version: '0.1.0',
    description: "Tags customer messages with the customer's language and notes a foreign one",
    events: ['customer-message'],
    settings: [setting.language('home_language'), setting.string('note_prefix')],
    // Same event and settings, same actions: the host may serve them from its cache.
    cacheable: true,
  },

  handle(event) {
    return languageActions(event, {
      homeLanguage: settings.get('home_language'),
      notePrefix: settings.get('note_prefix'),
    });
  },
});
