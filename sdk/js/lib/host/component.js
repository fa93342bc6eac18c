// Inside the component: the contract's imports themselves. The build
// (build.mjs) resolves `#host` here, with the `crossdesk-plugin` condition, and
// leaves these specifiers for componentize-js to bind to the host.

export * as clock from 'crossdesk:plugin/clock@0.2.1';
export * as contacts from 'crossdesk:plugin/contacts@0.2.1';
export * as http from 'crossdesk:plugin/http@0.2.1';
export * as kv from 'crossdesk:plugin/kv@0.2.1';
export * as log from 'crossdesk:plugin/log@0.2.1';
export * as settings from 'crossdesk:plugin/settings@0.2.1';
