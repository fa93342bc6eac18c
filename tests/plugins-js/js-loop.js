// A JavaScript plugin (contract 0.2.0) whose handle never returns: the host's
// deadline must stop it. Written against the contract directly, without the SDK,
// so that it depends on nothing but the WIT. Built with sdk/js/build.mjs.

export const handler = {
  manifest() {
    return {
      name: 'js-loop',
      version: '0.1.0',
      description: 'Loops forever on every customer message',
      events: [{ tag: 'customer-message' }],
      capabilities: { kv: false, outboundHosts: [], settings: [] },
      cacheable: false,
      datasets: [],
      commands: [],
    };
  },

  handle() {
    let spins = 0;
    for (;;) {
      // Work the engine cannot optimise away.
      spins = (spins + 1) % 1_000_003;
    }
  },
};

export const tools = {
  importDataset(dataset) {
    throw { message: `js-loop offers no dataset '${dataset}'`, retryable: false };
  },
  runCommand(command) {
    throw { message: `js-loop offers no command '${command}'`, retryable: false };
  },
};
