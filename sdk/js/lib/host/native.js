// Under Node (a plugin's tests): the contract's imports with the same names,
// values and errors as the component's bindings — bigints for s64/u64, bytes as
// Uint8Array, errors thrown with the contract's error in `payload` — answered by
// the MockHost installed from testing.js.

import { installedHost } from '../mock-host.js';

/** What the component's bindings throw for an `err` result. */
class ComponentError extends Error {
  constructor(payload) {
    super(typeof payload === 'string' ? payload : `${payload.tag} (see error.payload)`);
    this.payload = payload;
  }
}

function answer(result) {
  if ('err' in result) {
    throw new ComponentError(result.err);
  }
  return result.ok;
}

function requireBytes(value, what) {
  // Not `instanceof`: the bindings take a Uint8Array of any realm, as they return one of another.
  if (!(ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]')) {
    throw new TypeError(`${what} must be a Uint8Array`);
  }
}

/** An option<list<u8>>: undefined for none, as the component's bindings take it. */
function requireOptionalBytes(value, what) {
  if (value !== undefined) {
    requireBytes(value, what);
  }
}

export const settings = {
  get: (key) => installedHost().settingValue(key),
  all: () => installedHost().settingPairs(),
};

export const kv = {
  get: (key) => answer(installedHost().kvGet(key)),
  put(key, value) {
    requireBytes(value, 'kv value');
    return answer(installedHost().kvPut(key, value));
  },
  delete: (key) => answer(installedHost().kvDelete(key)),
  listKeys: (prefix) => answer(installedHost().kvList(prefix)),
  compareAndSwap(key, expected, value) {
    requireOptionalBytes(expected, 'expected kv value');
    requireOptionalBytes(value, 'new kv value');
    return answer(installedHost().kvCompareAndSwap(key, expected, value));
  },
};

export const http = {
  fetch(request) {
    requireBytes(request.body, 'request body');
    return answer(installedHost().httpFetch(request));
  },
};

export const log = {
  log: (level, message) => installedHost().record(level, message),
};

export const clock = {
  nowMs: () => BigInt(installedHost().clockMs()),
};

export const contacts = {
  history(fromMs, toMs) {
    if (typeof fromMs !== 'bigint' || typeof toMs !== 'bigint') {
      throw new TypeError('history takes s64 bounds as bigints');
    }
    return answer(installedHost().contactsBetween(fromMs, toMs));
  },
};
