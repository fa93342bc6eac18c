// The host capabilities of contract 0.2.1 — settings, kv, http, log, clock,
// contacts — and nothing else: the same six imports a Rust plugin has. Each
// wrapper calls the contract's interface through `#host`, which the component
// build resolves to the real imports (host/component.js) and Node resolves to the
// stand-in of testing.js (host/native.js); both throw the same errors, so a
// plugin's tests exercise the same conversions as the component.

import * as host from '#host';
import { pairs } from './actions.js';
import { ContactsError, HttpError, KvError } from './errors.js';
import { byUtf8 } from './order.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Whether `value` is a Uint8Array. Not `instanceof` alone: inside the component
 * the bytes the contract's bindings return (from `kv.get`, say) are Uint8Arrays
 * of another realm, for which `instanceof Uint8Array` is false.
 */
function isUint8Array(value) {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]';
}

/** Bytes of a string (UTF-8) or of bytes already. */
function bytes(value, what) {
  if (typeof value === 'string') {
    return encoder.encode(value);
  }
  if (isUint8Array(value)) {
    return value;
  }
  throw new TypeError(`${what} must be a string or a Uint8Array, got ${typeof value}`);
}

/** Like `bytes`, but `null` and `undefined` mean no value (absent, or delete): the contract's `none`. */
function optionalBytes(value, what) {
  return value === null || value === undefined ? undefined : bytes(value, what);
}

/** Calls a capability, turning the error it throws (the contract's, in `payload`) into `convert`'s. */
function call(convert, fn, ...args) {
  try {
    return fn(...args);
  } catch (error) {
    if (error !== null && typeof error === 'object' && 'payload' in error) {
      throw convert(error.payload);
    }
    throw error;
  }
}

const kvError = (payload) => new KvError(payload.tag, payload.val);
const httpError = (payload) => new HttpError(payload.tag, payload.val);

/**
 * The tenant's settings for this plugin: only the keys its manifest declares,
 * already checked by the host against their declared types.
 */
export const settings = Object.freeze({
  /** The setting `key` as the admin gave it, or undefined when unset. */
  get(key) {
    return host.settings.get(key);
  },

  /** Every setting the admin gave, as an object. */
  all() {
    return Object.fromEntries(host.settings.all());
  },

  /**
   * An `int` setting as a number, or undefined when unset; throws for one past
   * JavaScript's safe integers (2^53 - 1), which a number would round.
   */
  int(key) {
    const value = host.settings.get(key);
    if (value === undefined) {
      return undefined;
    }
    if (!/^[+-]?\d+$/.test(value)) {
      // Only when the manifest does not declare the key as an int.
      throw new TypeError(`setting '${key}' is not a whole number: '${value}'`);
    }
    const number = Number(value);
    if (!Number.isSafeInteger(number)) {
      throw new RangeError(`setting '${key}' is ${value}, past what a JavaScript number holds exactly`);
    }
    return number;
  },

  /** A `bool` setting, or undefined when unset. */
  bool(key) {
    const value = host.settings.get(key);
    if (value === undefined) {
      return undefined;
    }
    if (value !== 'true' && value !== 'false') {
      throw new TypeError(`setting '${key}' is not true or false: '${value}'`);
    }
    return value === 'true';
  },

  /**
   * A `list` or `languages` setting as its items (split at commas, trimmed, empty
   * items dropped, as the Rust SDK reads them); [] when unset or blank.
   */
  list(key) {
    const value = host.settings.get(key) ?? '';
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  },
});

/**
 * Key-value storage of this plugin for the current tenant. The admin must grant
 * it (and the manifest ask for it, `kv: true`); otherwise every call throws a
 * `KvError` of kind `denied`. Keys `@<plugin>/<key>` read another plugin's
 * storage when the admin granted that, and are never writable.
 */
export const kv = Object.freeze({
  /** The bytes stored under `key`, or undefined. */
  get(key) {
    return call(kvError, host.kv.get, key);
  },

  /** The text (UTF-8) stored under `key`, or undefined. */
  getText(key) {
    const value = kv.get(key);
    return value === undefined ? undefined : decoder.decode(value);
  },

  /** The JSON value stored under `key`, or undefined. */
  getJson(key) {
    const value = kv.getText(key);
    return value === undefined ? undefined : JSON.parse(value);
  },

  /** Stores `value` (bytes, or a string as UTF-8) under `key`. */
  put(key, value) {
    call(kvError, host.kv.put, key, bytes(value, 'a stored value'));
  },

  /** Stores `value` as JSON under `key`. */
  putJson(key, value) {
    kv.put(key, JSON.stringify(value));
  },

  /** Removes `key`; removing a missing key is not an error. */
  delete(key) {
    call(kvError, host.kv.delete, key);
  },

  /** The keys starting with `prefix`, ascending: the first `MAX_LISTED` of them. */
  listKeys(prefix = '') {
    return call(kvError, host.kv.listKeys, prefix);
  },

  /**
   * Every key starting with `prefix`, ascending, however many: where a listing
   * comes back full (`MAX_LISTED`), the keys are listed again under `prefix`
   * and each character of `alphabet` after it, as the Rust SDK's
   * `kv::list_all_keys`. `alphabet` must hold every character a key may have
   * past the prefix; a key with another is missed.
   */
  listAllKeys(prefix, alphabet) {
    const listed = kv.listKeys(prefix);
    if (listed.length < kv.MAX_LISTED) {
      return listed;
    }
    // The prefix itself, a key, is listed first and under no longer prefix.
    const all = listed[0] === prefix ? [prefix] : [];
    for (const c of alphabet) {
      all.push(...kv.listAllKeys(prefix + c, alphabet));
    }
    return all.sort(byUtf8);
  },

  /**
   * Sets `key` to `value` (`null` or undefined: deletes it) only if it holds
   * `expected` (`null` or undefined: the key is absent), atomically: no other
   * event's write comes between the comparison and the write. Returns whether
   * it did; when not, read the key again and retry, or let `update` do that.
   */
  compareAndSwap(key, expected, value) {
    return call(
      kvError,
      host.kv.compareAndSwap,
      key,
      optionalBytes(expected, 'an expected value'),
      optionalBytes(value, 'a stored value'),
    );
  },

  /**
   * Replaces the value of `key` with what `change` makes of it, without losing
   * another event's update: `change` gets the bytes stored (undefined when
   * absent) and returns the new value (bytes, or a string as UTF-8; `null` or
   * undefined deletes the key). When the key changed between the read and the
   * write, `change` runs again on the new value, so it may run more than once.
   * Returns the value written; after `UPDATE_ATTEMPTS` tries throws a
   * `KvError` of kind `backend`.
   */
  update(key, change) {
    for (let attempt = 0; attempt < kv.UPDATE_ATTEMPTS; attempt++) {
      const old = kv.get(key);
      // A copy: a `change` that edits the bytes in place must not edit what
      // the swap expects to find.
      const value = optionalBytes(change(old?.slice()), 'a stored value');
      if (kv.compareAndSwap(key, old, value)) {
        return value;
      }
    }
    throw new KvError('backend', `'${key}' kept changing: ${kv.UPDATE_ATTEMPTS} attempts to update it failed`);
  },

  /**
   * `update` with JSON: `change` gets the value stored (undefined when absent)
   * and returns the new one (undefined deletes the key; `null` is stored as
   * JSON). Returns what `change` returned on the try that was written.
   */
  updateJson(key, change) {
    let written;
    kv.update(key, (old) => {
      written = change(old === undefined ? undefined : JSON.parse(decoder.decode(old)));
      return written === undefined ? undefined : JSON.stringify(written);
    });
    return written;
  },

  /** How many times `update` tries before giving up, as in the Rust SDK. */
  UPDATE_ATTEMPTS: 64,

  /** Most keys one `listKeys` returns. */
  MAX_LISTED: 10_000,
});

/** An HTTP response: status, headers as `[name, value]` pairs, and the body as bytes. */
export class HttpResponse {
  constructor({ status, headers, body }) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** Whether the status is 2xx. */
  get ok() {
    return this.status >= 200 && this.status < 300;
  }

  /** The first value of header `name` (any case), or undefined. */
  header(name) {
    const wanted = name.toLowerCase();
    return this.headers.find(([n]) => n.toLowerCase() === wanted)?.[1];
  }

  /** The body as text (UTF-8, invalid bytes replaced). */
  text() {
    return decoder.decode(this.body);
  }

  /** The body parsed as JSON. */
  json() {
    return JSON.parse(this.text());
  }
}

/**
 * Outbound HTTP, only to hosts the manifest names (`outboundHosts`) and the admin
 * allowed; credentials for a host are added by the host, never seen by the plugin.
 * A refused or failed request throws an `HttpError`.
 */
export const http = Object.freeze({
  /** Sends `request` (`method` defaults to GET; `headers` an object or pairs; `body` a string or bytes). */
  send({ method = 'GET', url, headers = [], body = new Uint8Array() }) {
    const request = { method, url, headers: pairs(headers, 'headers'), body: bytes(body, 'a request body') };
    return new HttpResponse(call(httpError, host.http.fetch, request));
  },

  /** A GET of `url`. */
  get(url, { headers } = {}) {
    return http.send({ url, headers });
  },

  /** A POST of `body` to `url`. */
  post(url, body, { headers } = {}) {
    return http.send({ method: 'POST', url, headers, body });
  },
});

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

/** Log lines, forwarded to the host's logs with the tenant and plugin attached. */
export const log = Object.freeze({
  /**
   * Logs `message` at `level`: `trace`, `debug`, `info`, `warn` or `error`.
   * Another level throws, in tests as in the component (whose bindings accept
   * only the contract's levels).
   */
  log(level, message) {
    if (!LOG_LEVELS.includes(level)) {
      throw new TypeError(`log level must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`);
    }
    host.log.log(level, String(message));
  },
  trace: (message) => log.log('trace', message),
  debug: (message) => log.log('debug', message),
  info: (message) => log.log('info', message),
  warn: (message) => log.log('warn', message),
  error: (message) => log.log('error', message),
});

/**
 * Wall-clock time, the component's only clock: with WASI clocks disabled,
 * `Date.now()` there is the time the component was built.
 */
export const clock = Object.freeze({
  /** Milliseconds since the Unix epoch (UTC), as a number. */
  nowMs() {
    return Number(host.clock.nowMs());
  },
});

/**
 * The tenant's contact history: conversations per quarter hour, language and
 * channel. Readable only in commands an admin runs for a tenant; while handling
 * an event it throws a `ContactsError`.
 */
export const contacts = Object.freeze({
  /** The counts of buckets starting in `[fromMs, toMs)`, oldest first, with numbers for the counts. */
  history(fromMs, toMs) {
    const counts = call((message) => new ContactsError(message), host.contacts.history, BigInt(fromMs), BigInt(toMs));
    return counts.map((c) => ({
      bucketStartMs: Number(c.bucketStartMs),
      language: c.language,
      channel: c.channel,
      arrivals: Number(c.arrivals),
      handled: Number(c.handled),
      handleSecs: c.handleSecs,
    }));
  },
});
