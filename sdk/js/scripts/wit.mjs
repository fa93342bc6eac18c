// `prepack` / `postpack`: the package ships the contract's WIT in wit/ so that
// build.mjs works from an installed package; the repository keeps one copy, in
// ../wit (sdk/wit), copied in only for the time `npm pack` / `npm publish` runs.

import { cp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const packed = join(root, 'wit');

switch (process.argv[2]) {
  case 'copy':
    await rm(packed, { recursive: true, force: true });
    await cp(join(root, '..', 'wit'), packed, { recursive: true });
    break;
  case 'remove':
    await rm(packed, { recursive: true, force: true });
    break;
  default:
    console.error('usage: node scripts/wit.mjs copy|remove');
    process.exit(2);
}
