// The stand-in host for a plugin's tests under Node (exported by testing.js).
// It answers the contract's imports (through host/native.js) the way the real
// host does: storage, outbound hosts and the contact history are refused unless
// granted, and `call` runs a plugin with no more than its manifest declares.

import { invalidOutput } from './actions.js';
import { kindName } from './events.js';
import { byUtf8 } from './order.js';

// One host per process, like the Rust SDK's per-thread host.
let current;

/** The installed host; a default one, granting nothing, when none was installed. */
export function installedHost() {
  current ??= new MockHost();
  return current;
}

const ok = (value) => ({ ok: value });
const err = (error) => ({ err: error });

// The host's storage limits (crossdesk-sidecar, runtime/host.rs), met here so
// that a plugin meets them in its own tests, not first in production.
const MAX_KV_KEY = 512;
const MAX_KV_VALUE = 1 << 20;
const MAX_KV_LIST = 10_000; // kv.MAX_LISTED
// Headers the host sets itself and refuses from a plugin (runtime/http.rs), and
// the most one request may carry.
const HOST_SET_HEADERS = [
  'host',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'upgrade',
];
const MAX_REQUEST_HEADERS = 100;
const utf8Length = (text) => new TextEncoder().encode(text).length;

/** The host's refusal of `key`, or of `value` when given; undefined when within limits. */
function refusal(key, value) {
  if (key.includes('\0')) {
    return err({ tag: 'backend', val: `a storage key may not contain a NUL character: ${JSON.stringify(key)}` });
  }
  const keyBytes = utf8Length(key);
  if (keyBytes > MAX_KV_KEY) {
    return err({ tag: 'too-large', val: `key of ${keyBytes} bytes; the limit is ${MAX_KV_KEY}` });
  }
  if (value !== undefined && value !== null && value.length > MAX_KV_VALUE) {
    return err({ tag: 'too-large', val: `value of ${value.length} bytes; the limit is ${MAX_KV_VALUE}` });
  }
  return undefined;
}

/**
 * Whether a URL's host (and port) is one that `pattern` of `outboundHosts` allows:
 * `api.example.com`, `*.example.com` (subdomains only) or `host:port`.
 */
function allows(pattern, url) {
  const [patternHost, patternPort] = pattern.toLowerCase().split(':');
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const hostMatches = patternHost.startsWith('*.') ? host.endsWith(patternHost.slice(1)) : host === patternHost;
  return hostMatches && (patternPort === undefined || patternPort === port);
}

/** Whether two optional byte strings are equal (both absent, or the same bytes). */
function sameBytes(a, b) {
  if (a === undefined || b === undefined) {
    return a === b;
  }
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export class MockHost {
  #kv;
  #readable = new Map();
  #settings = new Map();
  #contacts;
  #responses = new Map();
  #nowMs = 0;
  #logs = [];
  #requests = [];
  // The manifest of the plugin being called by `call`, which narrows the grants.
  #declared;

  /** Grants key-value storage, empty at first. */
  grantKv() {
    this.#kv = new Map();
    return this;
  }

  /**
   * Lets the plugin read `key` of plugin `plugin`'s storage (the admin's `kv_read`
   * grant), holding `value`; the plugin reads it as `@<plugin>/<key>`.
   */
  readableKv(plugin, key, value) {
    this.#readable.set(`@${plugin}/${key}`, typeof value === 'string' ? new TextEncoder().encode(value) : value);
    return this;
  }

  /** Sets a setting, as an admin would. */
  setting(key, value) {
    this.#settings.set(key, String(value));
    return this;
  }

  /** Makes the contact history readable (as in a command run for a tenant), with these counts. */
  contactHistory(counts) {
    this.#contacts = counts;
    return this;
  }

  /** Allows requests to `url` and answers them; any other URL is refused as the host refuses an unlisted host. */
  httpResponse(url, status, body = '', headers = []) {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    this.#responses.set(url, { status, headers, body: bytes });
    return this;
  }

  /** Sets the clock, in milliseconds since the Unix epoch. */
  nowMs(ms) {
    this.#nowMs = ms;
    return this;
  }

  /** Makes this the host that answers the plugin's calls, replacing any other. */
  install() {
    current = this;
    return this;
  }

  /**
   * Calls the plugin's `handle` on `event` as the host would: only for a kind
   * its manifest declares, with no capability or setting it does not declare,
   * and refusing output the host refuses. Returns the actions; a `PluginError`
   * the plugin throws is thrown.
   */
  call(plugin, event) {
    const manifest = plugin.handler.manifest();
    const kind = kindName(event.kind);
    if (!manifest.events.some((declared) => kindName(declared) === kind)) {
      throw new Error(`the manifest does not declare ${kind}: the host would not call handle`);
    }
    this.install();
    this.#declared = manifest;
    // The host never lets an event's call read the contact history.
    const contacts = this.#contacts;
    this.#contacts = undefined;
    try {
      const actions = plugin.handler.handle(event);
      const problem = invalidOutput(actions, event);
      if (problem !== undefined) {
        throw new Error(problem);
      }
      return actions;
    } finally {
      this.#contacts = contacts;
      this.#declared = undefined;
    }
  }

  /** The bytes stored under `key`, or undefined. */
  kvValue(key) {
    return this.#kv?.get(key);
  }

  /** The text stored under `key`, or undefined. */
  kvText(key) {
    const value = this.kvValue(key);
    return value === undefined ? undefined : new TextDecoder().decode(value);
  }

  /** The lines logged so far, as `[level, message]`. */
  logs() {
    return [...this.#logs];
  }

  /** The requests the plugin sent (allowed or not), as the contract's `request` records. */
  requests() {
    return [...this.#requests];
  }

  // The answers to the contract's imports, for host/native.js: values, or
  // `{ err }` with the contract's error.

  settingValue(key) {
    return this.#settingDeclared(key) ? this.#settings.get(key) : undefined;
  }

  settingPairs() {
    return [...this.#settings].filter(([key]) => this.#settingDeclared(key));
  }

  #settingDeclared(key) {
    return (
      this.#declared === undefined ||
      this.#declared.capabilities.settings.some((declaration) => declaration.split(':')[0].trim() === key)
    );
  }

  #store() {
    if (this.#kv === undefined || this.#declared?.capabilities.kv === false) {
      return err({ tag: 'denied', val: 'key-value storage is not granted' });
    }
    return ok(this.#kv);
  }

  /** For a key naming another plugin's storage (`@<plugin>/...`): an error unless readable. */
  #shared(key) {
    const plugin = key.slice(1).split('/')[0];
    return [...this.#readable.keys()].some((k) => k.startsWith(`@${plugin}/`))
      ? undefined
      : err({ tag: 'denied', val: `reading the storage of plugin '${plugin}' is not granted` });
  }

  kvGet(key) {
    const refused = refusal(key);
    if (refused) {
      return refused;
    }
    if (key.startsWith('@')) {
      return this.#shared(key) ?? ok(this.#readable.get(key));
    }
    const store = this.#store();
    // A copy, as the component gets: changing what it read must not change what is stored.
    return 'err' in store ? store : ok(store.ok.get(key)?.slice());
  }

  kvPut(key, value) {
    const store = refusal(key, value) ?? this.#writable(key);
    if ('ok' in store) {
      store.ok.set(key, value.slice());
    }
    return 'err' in store ? store : ok(undefined);
  }

  kvDelete(key) {
    const store = refusal(key) ?? this.#writable(key);
    if ('ok' in store) {
      store.ok.delete(key);
    }
    return 'err' in store ? store : ok(undefined);
  }

  kvCompareAndSwap(key, expected, value) {
    const store = refusal(key, value) ?? this.#writable(key);
    if ('err' in store) {
      return store;
    }
    if (!sameBytes(store.ok.get(key), expected)) {
      return ok(false);
    }
    if (value === undefined) {
      store.ok.delete(key);
    } else {
      store.ok.set(key, value.slice());
    }
    return ok(true);
  }

  #writable(key) {
    if (key.startsWith('@')) {
      return err({ tag: 'denied', val: `'${key}' names another plugin's storage, which is read-only` });
    }
    return this.#store();
  }

  kvList(prefix) {
    const refused = refusal(prefix);
    if (refused) {
      return refused;
    }
    const keys = (map) =>
      ok([...map.keys()].filter((k) => k.startsWith(prefix)).sort(byUtf8).slice(0, MAX_KV_LIST));
    if (prefix.startsWith('@')) {
      return this.#shared(prefix) ?? keys(this.#readable);
    }
    const store = this.#store();
    return 'err' in store ? store : keys(store.ok);
  }

  httpFetch(request) {
    this.#requests.push(request);
    let url;
    try {
      url = new URL(request.url);
    } catch {
      return err({ tag: 'invalid-request', val: `not a URL: ${request.url}` });
    }
    if (request.headers.length > MAX_REQUEST_HEADERS) {
      return err({
        tag: 'invalid-request',
        val: `${request.headers.length} headers: a request has at most ${MAX_REQUEST_HEADERS}`,
      });
    }
    const hostSet = request.headers.find(([name]) => HOST_SET_HEADERS.includes(name.toLowerCase()));
    if (hostSet) {
      const name = hostSet[0].toLowerCase();
      return err({ tag: 'denied', val: `header '${name}' is set by the host (from the URL and the body), not by plugins` });
    }
    const declared = this.#declared?.capabilities.outboundHosts.some((pattern) => allows(pattern, url)) ?? true;
    const response = this.#responses.get(request.url);
    if (!declared || response === undefined) {
      return err({ tag: 'denied', val: `${request.url} is not allowed` });
    }
    return ok({ status: response.status, headers: [...response.headers], body: response.body.slice() });
  }

  record(level, message) {
    this.#logs.push([level, message]);
  }

  clockMs() {
    return this.#nowMs;
  }

  contactsBetween(fromMs, toMs) {
    if (this.#contacts === undefined) {
      return err('the contact history is readable only in commands run for a tenant');
    }
    const inRange = (c) => BigInt(c.bucketStartMs) >= fromMs && BigInt(c.bucketStartMs) < toMs;
    // As the host answers: oldest first, then by language and channel.
    const order = (a, b) => {
      const [x, y] = [BigInt(a.bucketStartMs), BigInt(b.bucketStartMs)];
      return x !== y ? (x < y ? -1 : 1) : byUtf8(a.language, b.language) || byUtf8(a.channel, b.channel);
    };
    return ok(
      [...this.#contacts].filter(inRange).sort(order).map((c) => ({
        bucketStartMs: BigInt(c.bucketStartMs),
        language: c.language,
        channel: c.channel,
        arrivals: BigInt(c.arrivals),
        handled: BigInt(c.handled),
        handleSecs: c.handleSecs,
      })),
    );
  }
}
