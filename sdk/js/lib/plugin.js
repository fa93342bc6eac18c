// `definePlugin`: turns a plugin's functions into the two interfaces a component
// of contract 0.2.1 exports, `handler` (manifest, handle) and `tools`
// (import-dataset, run-command), with the checks and conversions of the Rust
// SDK's `export_plugin!`: anything thrown becomes the contract's `plugin-error`,
// and tools the plugin does not offer answer with an error.

import { toPluginError, PluginError } from './errors.js';
import { manifest as buildManifest } from './manifest.js';

const encoder = new TextEncoder();
const asBytes = (value) => (typeof value === 'string' ? encoder.encode(value) : value);

/** A command's arguments as the host parsed them against its `command` spec. */
export class CommandInput {
  constructor({ tenant, values = [], files = [] } = {}) {
    /** The tenant the command runs for, when it needs one. */
    this.tenant = tenant;
    /** Flags and values given (or defaulted), as `[name, value]` pairs. */
    this.values = values;
    /** Input files, as `[name, bytes]` pairs. */
    this.files = files;
  }

  /** The value of parameter `name`, if given. */
  value(name) {
    return this.values.find(([n]) => n === name)?.[1];
  }

  /** Every value of a repeated parameter, in the order given. */
  valuesOf(name) {
    return this.values.filter(([n]) => n === name).map(([, v]) => v);
  }

  /** Whether flag `name` was given. */
  flag(name) {
    return this.value(name) === 'true';
  }

  /** The content of input file `name`, if given. */
  file(name) {
    return this.files.find(([n]) => n === name)?.[1];
  }
}

/** Runs `fn`, throwing what it throws as the contract's `plugin-error`. */
function reporting(fn) {
  try {
    return fn();
  } catch (error) {
    throw toPluginError(error);
  }
}

/** `value`, unless it is a promise. */
function refuseAsync(value, what) {
  if (typeof value?.then === 'function') {
    // The contract's calls are synchronous: a promise would reach the host unsettled.
    throw new TypeError(`${what} returned a promise; it must answer synchronously`);
  }
  return value;
}

/**
 * A plugin, ready to export from its module:
 *
 *     export const { handler, tools } = definePlugin({ manifest: { ... }, handle(event) { ... } });
 *
 * `manifest` takes the options of `manifest()`. `handle(event)` returns the
 * actions (an array; nothing for none). `importDataset(dataset, format, bytes)`
 * and `runCommand(command, input)` are needed only when the manifest offers
 * datasets or commands.
 */
export function definePlugin({ manifest, handle, importDataset, runCommand }) {
  const built = buildManifest(manifest);
  if (typeof handle !== 'function') {
    throw new TypeError(`plugin '${built.name}' has no handle(event) function`);
  }
  if (built.datasets.length > 0 && typeof importDataset !== 'function') {
    throw new TypeError(`plugin '${built.name}' offers datasets but has no importDataset function`);
  }
  if (built.commands.length > 0 && typeof runCommand !== 'function') {
    throw new TypeError(`plugin '${built.name}' offers commands but has no runCommand function`);
  }

  const handler = {
    manifest: () => built,
    handle: (event) =>
      reporting(() => {
        const actions = refuseAsync(handle(event), 'handle') ?? [];
        if (!Array.isArray(actions)) {
          throw new TypeError(`handle must return an array of actions, got ${typeof actions}`);
        }
        return actions;
      }),
  };

  const tools = {
    importDataset: (dataset, format, content) =>
      reporting(() => {
        if (!built.datasets.some((d) => d.name === dataset)) {
          throw new PluginError(`this plugin offers no dataset '${dataset}'`);
        }
        const { prefix, entries = [], records, summary = '' } = refuseAsync(
          importDataset(dataset, format, content),
          'importDataset',
        );
        const converted = entries.map(([key, value]) => {
          if (!key.startsWith(prefix)) {
            // The host refuses the whole import for it; say which key.
            throw new PluginError(`dataset entry '${key}' does not start with the prefix '${prefix}'`);
          }
          return [key, asBytes(value)];
        });
        return { prefix, entries: converted, records: records ?? converted.length, summary };
      }),
    runCommand: (command, input) =>
      reporting(() => {
        if (!built.commands.some((c) => c.name === command)) {
          throw new PluginError(`this plugin offers no command '${command}'`);
        }
        const output = refuseAsync(runCommand(command, new CommandInput(input)), 'runCommand');
        const { text = '', files = [] } = typeof output === 'string' ? { text: output } : output;
        return {
          text,
          files: files.map(({ param = '', name, content }) => ({ param, name, content: asBytes(content) })),
        };
      }),
  };

  return { handler, tools };
}
