// Types of @crossdesk/plugin-sdk. The contract's own records (event, action,
// manifest...) are the ones generated from the WIT in types/ (`npm run types`);
// this file declares the SDK around them.

/// <reference path="./types/plugin.d.ts" />

import type * as wit from 'crossdesk:plugin/types@0.2.1';
import type * as witTools from 'crossdesk:plugin/tools@0.2.1';

export type Event = wit.Event;
export type EventKind = wit.EventKind;
export type Customer = wit.Customer;
export type Agent = wit.Agent;
export type Action = wit.Action;
export type Recommendation = wit.Recommendation;
export type Routing = wit.Routing;
export type ReviewFlag = wit.ReviewFlag;
export type PluginManifest = wit.PluginManifest;
export type DatasetSpec = wit.DatasetSpec;
export type CommandSpec = wit.CommandSpec;
export type Param = wit.Param;
export type ParamKind = wit.ParamKind;
export type DatasetEntries = witTools.DatasetEntries;
export type CommandOutput = witTools.CommandOutput;

/** The version of the plugin contract (`crossdesk:plugin`) this SDK builds against. */
export const CONTRACT_VERSION: '0.2.1';

// ---- The plugin --------------------------------------------------------------

/** The name of an event kind of contract 0.2.1. */
export type EventKindName =
  | 'customer-message'
  | 'agent-reply-drafted'
  | 'ticket-created'
  | 'ticket-solved'
  | 'satisfaction-rated'
  | 'customer-registered'
  | 'purchase-recorded'
  | 'profile-updated'
  | 'translation-corrected';

/** What `manifest()` takes: everything but `name` and `version` is optional and asks for nothing. */
export interface ManifestOptions {
  name: string;
  version: string;
  /** One sentence for admins. */
  description?: string;
  /** The kinds handled, by name, or `otherKind(name)` for a kind added after 0.2.1. */
  events?: Array<EventKindName | EventKind>;
  /** Asks for key-value storage. */
  kv?: boolean;
  /** Hosts to reach over HTTP: `api.example.com`, `*.example.com`, `127.0.0.1:2737`. */
  outboundHosts?: string[];
  /** Settings read, each `name` or `name: type` (see `setting`). */
  settings?: string[];
  /** Whether the same event and settings always give the same actions (the host may cache them). */
  cacheable?: boolean;
  /** Datasets admins import (see `dataset`); needs `importDataset`. */
  datasets?: DatasetSpec[];
  /** Commands admins run (see `command`); needs `runCommand`. */
  commands?: CommandSpec[];
}

/** What a dataset import returns: the entries that replace every key starting with `prefix`. */
export interface DatasetImport {
  prefix: string;
  /** `[key, value]`; each key starts with `prefix`; a string value is stored as UTF-8. */
  entries?: Array<[string, Uint8Array | string]>;
  /** Records in the new data; the number of entries when left out. */
  records?: number;
  /** One line describing the new data, for people and the audit log. */
  summary?: string;
}

/** A file a command wrote: `param` is its `output-file` parameter, or empty for the `output-dir`. */
export interface CommandFile {
  param?: string;
  name: string;
  content: Uint8Array | string;
}

/** The functions of a plugin, for `definePlugin`. */
export interface PluginDefinition {
  manifest: ManifestOptions;
  /**
   * Handles one event of a declared kind, synchronously. Throw a `PluginError` to
   * report that it could not; a capability's error or any other exception thrown
   * becomes one.
   */
  handle(event: Event): Action[] | void;
  /** Parses `content` of a declared dataset, whole. */
  importDataset?(dataset: string, format: string, content: Uint8Array): DatasetImport;
  /** Runs a declared command; a string is the text printed to the admin. */
  runCommand?(command: string, input: CommandInput): string | { text?: string; files?: CommandFile[] };
}

/** The interfaces a component of contract 0.2.1 exports. */
export interface Plugin {
  handler: {
    manifest(): PluginManifest;
    handle(event: Event): Action[];
  };
  tools: {
    importDataset(dataset: string, format: string, content: Uint8Array): DatasetEntries;
    runCommand(command: string, input: witTools.CommandInput): CommandOutput;
  };
}

/**
 * A plugin, ready to export: `export const { handler, tools } = definePlugin({ ... })`.
 * Throws when the manifest is invalid or a function it needs is missing.
 */
export function definePlugin(definition: PluginDefinition): Plugin;

/** A command's arguments as the host parsed them against its spec. */
export class CommandInput {
  constructor(input?: Partial<witTools.CommandInput>);
  /** The tenant the command runs for, when it needs one. */
  tenant: string | undefined;
  /** Flags and values given (or defaulted), as `[name, value]` pairs. */
  values: Array<[string, string]>;
  /** Input files, as `[name, bytes]` pairs. */
  files: Array<[string, Uint8Array]>;
  /** The value of parameter `name`, if given. */
  value(name: string): string | undefined;
  /** Every value of a repeated parameter, in the order given. */
  valuesOf(name: string): string[];
  /** Whether flag `name` was given. */
  flag(name: string): boolean;
  /** The content of input file `name`, if given. */
  file(name: string): Uint8Array | undefined;
}

// ---- The manifest --------------------------------------------------------------

/** The contract's manifest, checked; throws a TypeError naming what is wrong. */
export function manifest(options: ManifestOptions): PluginManifest;

/** A dataset admins import whole, in JSON unless `formats` says otherwise. */
export function dataset(name: string, description: string, formats?: string[]): DatasetSpec;

/** A command admins run. */
export function command(
  name: string,
  description: string,
  options?: { params?: Param[]; needsTenant?: boolean },
): CommandSpec;

export interface ParamOptions {
  required?: boolean;
  /** Given by position rather than as `--name`. */
  positional?: boolean;
  /** May be given more than once. */
  repeated?: boolean;
  /** Used when the admin gives none. */
  defaultValue?: string;
}

/** A command's parameters by kind; an input file is positional unless told otherwise. */
export const param: {
  flag(name: string, help: string, options?: ParamOptions): Param;
  value(name: string, help: string, options?: ParamOptions): Param;
  inputFile(name: string, help: string, options?: ParamOptions): Param;
  /** A file to write, `--name PATH`; when given, its path is among the command's values too. */
  outputFile(name: string, help: string, options?: ParamOptions): Param;
  outputDir(name: string, help: string, options?: ParamOptions): Param;
};

/** Setting declarations by type: `setting.int('max', { min: 1, max: 10 })` is `'max: int(1..10)'`. */
export const setting: {
  string(name: string): string;
  bool(name: string): string;
  int(name: string, bounds?: { min?: number | bigint; max?: number | bigint }): string;
  url(name: string): string;
  language(name: string): string;
  languages(name: string): string;
  list(name: string): string;
  oneOf(name: string, words: string[]): string;
};

// ---- Actions --------------------------------------------------------------------

/** A note only agents see. */
export function internalNote(note: string): wit.ActionInternalNote;
/** Replaces the agent's reply draft; only on `agent-reply-drafted` events. */
export function replaceDraft(draft: string): wit.ActionReplaceDraft;
/** Adds tags (no whitespace) to the ticket. */
export function addTags(...tags: Array<string | string[]>): wit.ActionAddTags;
/** Sets ticket fields, from an object or `[name, value]` pairs. */
export function setFields(fields: Record<string, string> | Array<[string, string]>): wit.ActionSetFields;
/** One suggestion; `score` must be finite, `reason` defaults to empty. */
export function recommendation(item: {
  kind: string;
  id: string;
  title: string;
  reason?: string;
  score: number;
}): Recommendation;
/** Suggests products, articles or answers to the agent. */
export function recommend(items: Array<Parameters<typeof recommendation>[0]>): wit.ActionRecommend;
/** Routes the conversation; `reason` is shown to agents. */
export function route(routing: { group?: string; agentId?: string; priority?: string; reason?: string }): wit.ActionRoute;
/** Answers the customer at once, without an agent. */
export function autoReply(reply: string): wit.ActionAutoReply;
/** Asks that a human reviews the reply before it is sent. */
export function flagForReview(category: string, reason: string): wit.ActionFlagForReview;

// ---- Events ---------------------------------------------------------------------

/** The event kinds of contract 0.2.1, by name. */
export const EVENT_KINDS: readonly EventKindName[];
/** The variant of a known kind; throws on an unknown name. */
export function eventKind(name: EventKindName): EventKind;
/** A kind added after contract 0.2.1, by its proto name. */
export function otherKind(name: string): wit.EventKindOther;
/** The name of a kind: `'customer-message'`, or the name an `other` kind carries. */
export function kindName(kind: EventKind): string;
/** Whether `event` is of the kind named `name`. */
export function isKind(event: Event, name: string): boolean;
/** The language subtag of a BCP 47 tag: `'pt'` for `pt-BR` (or `pt_BR`). */
export function primaryLanguage(tag: string | undefined): string | undefined;
/** The customer's language from their locale: `'es'` for `es-MX`. */
export function customerLanguage(event: Event): string | undefined;
/** The agent's working language: `'en'` for `en-US`. */
export function agentLanguage(event: Event): string | undefined;
/** The integrator's attribute `key`, e.g. `csat.score`. */
export function attribute(event: Event, key: string): string | undefined;
/** The customer's identity on another channel, e.g. `'email'`. */
export function externalId(event: Event, channel: string): string | undefined;

// ---- Host capabilities -------------------------------------------------------------

/** The tenant's settings for this plugin: only declared keys, checked against their types. */
export const settings: {
  get(key: string): string | undefined;
  all(): Record<string, string>;
  /** An `int` setting as a number; throws `RangeError` past 2^53 - 1, which a number would round. */
  int(key: string): number | undefined;
  /** A `bool` setting. */
  bool(key: string): boolean | undefined;
  /** A `list` or `languages` setting as its trimmed items, empty ones dropped; `[]` when unset or blank. */
  list(key: string): string[];
};

/**
 * Key-value storage of this plugin for the tenant; throws `KvError`. A key holds
 * at most 512 bytes, a value 1 MiB, and all of the tenant's entries of this
 * plugin the operator's quota (256 MiB unless configured otherwise; each entry
 * weighs its key, its value and 64 bytes): past any of them, `too-large`. A key
 * or prefix holding a NUL character is refused (`backend`).
 */
export const kv: {
  get(key: string): Uint8Array | undefined;
  getText(key: string): string | undefined;
  getJson(key: string): unknown;
  /** Stores bytes, or a string as UTF-8. */
  put(key: string, value: Uint8Array | string): void;
  putJson(key: string, value: unknown): void;
  delete(key: string): void;
  /** Keys starting with `prefix`, ascending: the first `MAX_LISTED` (list narrower prefixes for more). */
  listKeys(prefix?: string): string[];
  /**
   * Every key starting with `prefix`, however many: a full listing is listed
   * again under `prefix` and each character of `alphabet` (which must hold
   * every character a key may have past the prefix).
   */
  listAllKeys(prefix: string, alphabet: string): string[];
  /**
   * Sets `key` to `value` (`null` or undefined: deletes it) only if it holds
   * `expected` (`null` or undefined: absent), atomically. Returns whether it
   * did; when not, read the key again and retry, or use `update`.
   *
   * ```js
   * kv.compareAndSwap('owner', null, 'agent-1'); // true: the key was absent
   * kv.compareAndSwap('owner', null, 'agent-2'); // false: it is not any more
   * kv.compareAndSwap('owner', 'agent-1', null); // true: deleted
   * ```
   */
  compareAndSwap(
    key: string,
    expected: Uint8Array | string | null | undefined,
    value: Uint8Array | string | null | undefined,
  ): boolean;
  /**
   * Replaces the value of `key` with what `change` makes of the bytes stored
   * (undefined: absent; return `null` or undefined to delete), without losing
   * another event's update: when the key changed meanwhile, `change` runs again
   * on the new value. Returns the value written; throws a `KvError` of kind
   * `backend` after `UPDATE_ATTEMPTS` tries.
   *
   * ```js
   * // A counter that loses no visit when two events of the tenant run at once.
   * kv.update('visits', (old) => String(Number(old ? new TextDecoder().decode(old) : 0) + 1));
   * ```
   */
  update(
    key: string,
    change: (old: Uint8Array | undefined) => Uint8Array | string | null | undefined,
  ): Uint8Array | undefined;
  /**
   * `update` with JSON: `change` gets the value stored (undefined: absent) and
   * returns the new one (undefined deletes the key; `null` is stored as JSON).
   * Returns what `change` returned on the try that was written.
   *
   * ```js
   * kv.updateJson<Record<string, number>>('tags', (counts = {}) => ({ ...counts, vip: (counts.vip ?? 0) + 1 }));
   * kv.updateJson('seen', () => undefined); // deletes `seen`
   * ```
   */
  updateJson<T = unknown>(key: string, change: (old: T | undefined) => T | undefined): T | undefined;
  /** How many times `update` tries before giving up. */
  readonly UPDATE_ATTEMPTS: 64;
  /** Most keys one `listKeys` returns. */
  readonly MAX_LISTED: 10000;
};

/** An HTTP response. */
export class HttpResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
  /** Whether the status is 2xx. */
  readonly ok: boolean;
  /** The first value of header `name`, any case. */
  header(name: string): string | undefined;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON. */
  json(): unknown;
}

export interface HttpRequest {
  /** `GET` unless given. */
  method?: string;
  url: string;
  headers?: Record<string, string> | Array<[string, string]>;
  body?: Uint8Array | string;
}

/** Outbound HTTP to declared, allowed hosts only; throws `HttpError`. */
export const http: {
  send(request: HttpRequest): HttpResponse;
  get(url: string, options?: { headers?: HttpRequest['headers'] }): HttpResponse;
  post(url: string, body: Uint8Array | string, options?: { headers?: HttpRequest['headers'] }): HttpResponse;
};

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Log lines, forwarded to the host's logs. */
export const log: {
  log(level: LogLevel, message: unknown): void;
  trace(message: unknown): void;
  debug(message: unknown): void;
  info(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown): void;
};

/** Wall-clock time: the component's only clock. */
export const clock: {
  /** Milliseconds since the Unix epoch (UTC). */
  nowMs(): number;
};

/** Conversations of one quarter hour, language and channel. */
export interface ContactCount {
  bucketStartMs: number;
  /** `es`, or `und` when unknown. */
  language: string;
  channel: string;
  arrivals: number;
  handled: number;
  handleSecs: number;
}

/** The tenant's contact history; readable only in commands run for a tenant, else throws `ContactsError`. */
export const contacts: {
  history(fromMs: number | bigint, toMs: number | bigint): ContactCount[];
};

// ---- Errors --------------------------------------------------------------------

/** Why a plugin could not handle an event: what the host reports. */
export class PluginError extends Error {
  constructor(message: string, options?: { retryable?: boolean });
  retryable: boolean;
  /** An error that may go away by retrying. */
  static retryable(message: string): PluginError;
}

/** A storage call failed. */
export class KvError extends Error {
  constructor(kind: KvError['kind'], detail: string);
  kind: 'denied' | 'too-large' | 'backend';
  detail: string;
}

/** A request failed. */
export class HttpError extends Error {
  constructor(kind: HttpError['kind'], detail?: string);
  kind: 'denied' | 'invalid-request' | 'timeout' | 'transport' | 'too-large';
  detail: string | undefined;
  /** A timeout or a failed connection: a later try may succeed. */
  readonly retryable: boolean;
}

/** The contact history could not be read. */
export class ContactsError extends Error {
  constructor(message: string);
}
