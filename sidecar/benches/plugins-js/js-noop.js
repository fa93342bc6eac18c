// The JavaScript no-op of the calls bench (contract 0.2.1, built with
// sdk/js/build.mjs): its handle returns no action, so a warm call measures what
// any JavaScript plugin pays before its own work (the engine's entry and exit,
// the event turned into JavaScript objects, the empty list turned back).
export const handler = {
  manifest() {
    return {
      name: 'js-noop',
      version: '0.1.0',
      description: 'Does nothing, for the calls bench',
      events: [{ tag: 'customer-message' }],
      capabilities: { kv: false, outboundHosts: [], settings: [] },
      cacheable: false,
      datasets: [],
      commands: [],
    };
  },

  handle() {
    return [];
  },
};

export const tools = {
  importDataset(dataset) {
    throw { message: `js-noop offers no dataset '${dataset}'`, retryable: false };
  },
  runCommand(command) {
    throw { message: `js-noop offers no command '${command}'`, retryable: false };
  },
};
