// A JavaScript plugin (contract 0.2.0) whose handle allocates without bound: the
// host's memory limit must stop it, well before its deadline. Written against the
// contract directly, without the SDK. Built with sdk/js/build.mjs.

export const handler = {
  manifest() {
    return {
      name: 'js-memory-bomb',
      version: '0.1.0',
      description: 'Hoards memory on every customer message',
      events: [{ tag: 'customer-message' }],
      capabilities: { kv: false, outboundHosts: [], settings: [] },
      cacheable: false,
      datasets: [],
      commands: [],
    };
  },

  handle() {
    const hoard = [];
    for (;;) {
      // 4 MiB at a time, every byte written so the pages are really used.
      hoard.push(new Uint8Array(4 << 20).fill(0xa5));
    }
  },
};

export const tools = {
  importDataset(dataset) {
    throw { message: `js-memory-bomb offers no dataset '${dataset}'`, retryable: false };
  },
  runCommand(command) {
    throw { message: `js-memory-bomb offers no command '${command}'`, retryable: false };
  },
};
