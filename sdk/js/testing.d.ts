// Types of @crossdesk/plugin-sdk/testing: the stand-in host for a plugin's tests.

import type { Action, Event, EventKind, LogLevel, Plugin } from './index.js';
import type { Request } from 'crossdesk:plugin/http@0.2.1';

/** A count for `MockHost#contactHistory`. */
export interface TestContactCount {
  bucketStartMs: number | bigint;
  language: string;
  channel: string;
  arrivals: number | bigint;
  handled: number | bigint;
  handleSecs: number;
}

/**
 * The host that answers the SDK's capabilities under Node. Like the real host it
 * refuses storage, outbound hosts and the contact history unless granted.
 */
export class MockHost {
  /** Grants key-value storage, empty at first. */
  grantKv(): this;
  /** Lets the plugin read `@<plugin>/<key>` of another plugin's storage. */
  readableKv(plugin: string, key: string, value: Uint8Array | string): this;
  /** Sets a setting, as an admin would. */
  setting(key: string, value: string | number | boolean): this;
  /** Makes the contact history readable, with these counts. */
  contactHistory(counts: TestContactCount[]): this;
  /** Allows requests to `url` and answers them; other URLs are refused. */
  httpResponse(url: string, status: number, body?: Uint8Array | string, headers?: Array<[string, string]>): this;
  /** Sets the clock, in milliseconds since the Unix epoch. */
  nowMs(ms: number): this;
  /** Makes this the host that answers the plugin, replacing any other. */
  install(): this;
  /**
   * Calls `handle` as the host would: only for a declared kind, with only the
   * declared capabilities and settings, refusing output the host refuses.
   */
  call(plugin: Plugin, event: Event): Action[];
  /** What is stored under `key`. */
  kvValue(key: string): Uint8Array | undefined;
  /** What is stored under `key`, as text. */
  kvText(key: string): string | undefined;
  /** The lines logged so far. */
  logs(): Array<[LogLevel, string]>;
  /** The requests sent, allowed or not. */
  requests(): Request[];
}

/** Fields of a test event besides its kind and text. */
export interface TestEventFields {
  tenantId?: string;
  eventId?: string;
  ticketId?: string;
  channel?: string;
  customer?: Partial<NonNullable<Event['customer']>>;
  agent?: Partial<NonNullable<Event['agent']>>;
  occurredAtMs?: number | bigint;
  attributes?: Record<string, string> | Array<[string, string]>;
}

/** An event in the contract's shape; a kind name outside contract 0.2.1 is an `other` kind. */
export function testEvent(kind: string | EventKind, text?: string, fields?: TestEventFields): Event;
