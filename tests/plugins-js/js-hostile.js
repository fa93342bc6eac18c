// A hostile JavaScript plugin (contract 0.2.1), one component for several attacks
// so that the test suite compiles its engine once: with the setting `attack = loop`
// its handle never returns (the deadline must stop it); with `attack = hoard` it
// allocates without bound (the memory limit must stop it first); with `attack =
// fail` it throws the SDK's `PluginError`, which the host must report as the
// plugin's error, not as a trap. Written against the contract directly, with only
// the SDK's error class, so that it depends on little but the WIT. Built with
// sdk/js/build.mjs.
import { get as setting } from 'crossdesk:plugin/settings@0.2.1';
import { PluginError } from '../../sdk/js/lib/errors.js';

export const handler = {
  manifest() {
    return {
      name: 'js-hostile',
      version: '0.1.0',
      description: 'Loops forever, hoards memory or fails on every customer message',
      events: [{ tag: 'customer-message' }],
      capabilities: { kv: false, outboundHosts: [], settings: ['attack: one-of(loop|hoard|fail)'] },
      cacheable: false,
      datasets: [],
      commands: [],
    };
  },

  handle() {
    if (setting('attack') === 'fail') {
      throw PluginError.retryable('asked to fail');
    }
    if (setting('attack') === 'hoard') {
      const hoard = [];
      for (;;) {
        // 4 MiB at a time, every byte written so the pages are really used.
        hoard.push(new Uint8Array(4 << 20).fill(0xa5));
      }
    }
    let spins = 0;
    for (;;) {
      // Work the engine cannot optimise away.
      spins = (spins + 1) % 1_000_003;
    }
  },
};

export const tools = {
  importDataset(dataset) {
    throw { message: `js-hostile offers no dataset '${dataset}'`, retryable: false };
  },
  runCommand(command) {
    throw { message: `js-hostile offers no command '${command}'`, retryable: false };
  },
};
