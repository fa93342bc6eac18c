// The plugin's manifest (`plugin-manifest` of contract 0.2.1): who it is, the
// events it handles, the capabilities it asks for, and the datasets and commands
// it offers admins. `manifest()` takes plain options and returns the contract's
// record, checked so that a mistake fails in the author's tests and at build
// time rather than when the host loads the plugin.

import { checkDeclarations } from './declarations.js';
import { eventKind, EVENT_KINDS } from './events.js';

const MANIFEST_OPTIONS = [
  'name',
  'version',
  'description',
  'events',
  'kv',
  'outboundHosts',
  'settings',
  'cacheable',
  'datasets',
  'commands',
];

function text(value, what) {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function list(value, what) {
  if (!Array.isArray(value)) {
    throw new TypeError(`${what} must be an array, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** An event kind given by name or as the contract's variant. */
function kindOf(kind) {
  if (typeof kind === 'string') {
    return eventKind(kind);
  }
  const known = kind?.tag === 'other' ? typeof kind.val === 'string' && kind.val !== '' : EVENT_KINDS.includes(kind?.tag);
  if (!known) {
    throw new TypeError(`not an event kind: ${JSON.stringify(kind)}`);
  }
  return kind;
}

/**
 * The manifest of a plugin, in the contract's shape.
 *
 * Events are kind names (`'customer-message'`) or `otherKind(name)`; settings are
 * declarations (`'greeting'`, `'max: int(1..10)'`, or built with `setting`).
 * Everything but `name` and `version` is optional and asks for nothing.
 */
export function manifest(options = {}) {
  const unknown = Object.keys(options).filter((key) => !MANIFEST_OPTIONS.includes(key));
  if (unknown.length > 0) {
    throw new TypeError(`unknown manifest option ${unknown.join(', ')}; expected ${MANIFEST_OPTIONS.join(', ')}`);
  }
  const {
    name,
    version,
    description = '',
    events = [],
    kv = false,
    outboundHosts = [],
    settings = [],
    cacheable = false,
    datasets = [],
    commands = [],
  } = options;
  checkDeclarations(list(settings, 'settings'));
  checkOffers(list(datasets, 'datasets'), list(commands, 'commands'));
  return {
    name: text(name, 'manifest name'),
    version: text(version, 'manifest version'),
    description: String(description),
    events: list(events, 'events').map(kindOf),
    capabilities: {
      kv: Boolean(kv),
      outboundHosts: list(outboundHosts, 'outboundHosts').map((host) => text(host, 'an outbound host')),
      settings: [...settings],
    },
    cacheable: Boolean(cacheable),
    datasets: list(datasets, 'datasets'),
    commands: list(commands, 'commands'),
  };
}

// What the host checks of the datasets and commands a plugin offers
// (crossdesk-sidecar's runtime/offers.rs): the CLI turns commands into command
// lines, where a name that is not a plain word, a name given twice or one the
// CLI reads for itself would be ambiguous or taken.
const RESERVED_PARAMS = ['help', 'version', 'tenant', 'config', 'data-dir', 'plugin-dir', 'plugin'];
const PLAIN = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

function unplain(what, name) {
  return new TypeError(
    `${what} ${JSON.stringify(name)}: names are lowercase words (letters, digits and '-'), each given once`,
  );
}

/** Throws where the host would refuse the plugin for what it offers. */
function checkOffers(datasets, commands) {
  const datasetNames = new Set();
  for (const { name } of datasets) {
    if (!PLAIN.test(name) || datasetNames.has(name)) {
      throw unplain('dataset', name);
    }
    datasetNames.add(name);
  }
  const commandNames = new Set();
  for (const { name, params } of commands) {
    if (!PLAIN.test(name) || commandNames.has(name)) {
      throw unplain('command', name);
    }
    commandNames.add(name);
    const at = (param) => `command '${name}', parameter '${param}'`;
    const paramNames = new Set();
    for (const param of params) {
      if (!PLAIN.test(param.name) || paramNames.has(param.name)) {
        throw unplain(at(param.name), param.name);
      }
      if (RESERVED_PARAMS.includes(param.name)) {
        throw new TypeError(`${at(param.name)}: the command line reads --${param.name} for itself`);
      }
      if (param.positional && param.kind === 'flag') {
        throw new TypeError(`${at(param.name)}: a flag is given by name, not position`);
      }
      paramNames.add(param.name);
    }
    const positional = params.filter((p) => p.positional);
    const early = positional.slice(0, -1).find((p) => p.repeated);
    if (early) {
      throw new TypeError(`${at(early.name)}: only the last positional parameter may be repeated`);
    }
  }
}

/** A dataset admins import whole (`importDataset`), in JSON unless `formats` says otherwise. */
export function dataset(name, description, formats = ['json']) {
  return {
    name: text(name, 'dataset name'),
    description: String(description),
    formats: list(formats, 'dataset formats').map((f) => text(f, 'a dataset format')),
  };
}

/** A command admins run (`runCommand`), with its parameters in order. */
export function command(name, description, { params = [], needsTenant = false } = {}) {
  return {
    name: text(name, 'command name'),
    description: String(description),
    params: list(params, 'command params'),
    needsTenant: Boolean(needsTenant),
  };
}

function makeParam(kind, name, help, { required = false, positional = false, repeated = false, defaultValue } = {}) {
  return {
    name: text(name, 'param name'),
    help: String(help ?? ''),
    kind,
    required: Boolean(required),
    positional: Boolean(positional),
    repeated: Boolean(repeated),
    defaultValue: defaultValue === undefined ? undefined : String(defaultValue),
  };
}

/**
 * A command's parameters by kind: `param.value('seed', 'The seed', { required: true })`.
 * An input file is positional unless told otherwise, as in the Rust SDK.
 */
export const param = Object.freeze({
  flag: (name, help, options) => makeParam('flag', name, help, options),
  value: (name, help, options) => makeParam('value', name, help, options),
  inputFile: (name, help, options) => makeParam('input-file', name, help, { positional: true, ...options }),
  outputFile: (name, help, options) => makeParam('output-file', name, help, options),
  outputDir: (name, help, options) => makeParam('output-dir', name, help, options),
});
