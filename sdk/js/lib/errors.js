// The errors a plugin sees and raises. `PluginError` is the contract's
// `plugin-error`: thrown from `handle` (or the tools), it is what the host reports
// for the event. The host capabilities throw `KvError`, `HttpError` and
// `ContactsError`; left uncaught, each becomes a `PluginError` (see plugin.js).

/** Why a plugin could not handle an event; `retryable` when a later try may succeed. */
export class PluginError extends Error {
  constructor(message, { retryable = false } = {}) {
    super(message);
    this.name = 'PluginError';
    // An own property: the component's bindings read `message` and `retryable`
    // off the thrown object to build the contract's `plugin-error`.
    this.retryable = retryable;
  }

  /** An error that may go away by retrying (a service was down). */
  static retryable(message) {
    return new PluginError(message, { retryable: true });
  }
}

const KV_MESSAGES = {
  denied: 'storage denied',
  'too-large': 'storage entry too large',
  backend: 'storage failed',
};

/** A storage call failed: `kind` is `denied`, `too-large` or `backend`, as the contract's `kv-error`. */
export class KvError extends Error {
  constructor(kind, detail) {
    super(`${KV_MESSAGES[kind] ?? kind}: ${detail}`);
    this.name = 'KvError';
    this.kind = kind;
    this.detail = detail;
  }
}

/**
 * A request failed: `kind` is `denied`, `invalid-request`, `timeout`, `transport`
 * or `too-large`, as the contract's `http-error`.
 */
export class HttpError extends Error {
  constructor(kind, detail) {
    const message = {
      denied: `request denied: ${detail}`,
      'invalid-request': `invalid request: ${detail}`,
      timeout: 'request timed out',
      transport: `request failed: ${detail}`,
      'too-large': 'response too large',
    }[kind];
    super(message ?? `request failed (${kind})`);
    this.name = 'HttpError';
    this.kind = kind;
    this.detail = detail;
  }

  /** Whether trying again later may succeed: the service did not answer in time, or the connection failed. */
  get retryable() {
    return this.kind === 'timeout' || this.kind === 'transport';
  }
}

/** The contact history could not be read (it is readable only in commands run for a tenant). */
export class ContactsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ContactsError';
  }
}

/**
 * The contract's `plugin-error` for anything thrown by a plugin's code: its own
 * `PluginError` as is, a capability's error as the Rust SDK converts it, and any
 * other exception (a bug) by its name and message, so the host reports more
 * than a bare trap.
 */
export function toPluginError(error) {
  if (error instanceof PluginError) {
    return error;
  }
  if (error instanceof HttpError) {
    return new PluginError(error.message, { retryable: error.retryable });
  }
  if (error instanceof KvError || error instanceof ContactsError) {
    return new PluginError(error.message);
  }
  if (error instanceof Error) {
    return new PluginError(`${error.name}: ${error.message}`);
  }
  return new PluginError(`uncaught ${typeof error}: ${String(error)}`);
}
