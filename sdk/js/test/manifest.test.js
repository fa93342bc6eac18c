// manifest(), setting declarations, datasets, commands and params.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { command, dataset, manifest, otherKind, param, setting } from '../index.js';

test('a manifest of name and version asks for nothing', () => {
  assert.deepEqual(manifest({ name: 'x', version: '0.1.0' }), {
    name: 'x',
    version: '0.1.0',
    description: '',
    events: [],
    capabilities: { kv: false, outboundHosts: [], settings: [] },
    cacheable: false,
    datasets: [],
    commands: [],
  });
});

test('events are given by name or as other kinds, and become the contract variants', () => {
  const m = manifest({ name: 'x', version: '1', events: ['customer-message', otherKind('refund-issued')] });
  assert.deepEqual(m.events, [{ tag: 'customer-message' }, { tag: 'other', val: 'refund-issued' }]);
});

test('a misspelt event kind is refused, naming the known ones', () => {
  assert.throws(
    () => manifest({ name: 'x', version: '1', events: ['customer-mesage'] }),
    /unknown event kind 'customer-mesage'.*customer-message/,
  );
});

test('capabilities go under capabilities, as the contract has them', () => {
  const m = manifest({
    name: 'mt',
    version: '0.2.0',
    kv: true,
    outboundHosts: ['api.deepl.com'],
    settings: ['target_language: language'],
    cacheable: true,
  });
  assert.deepEqual(m.capabilities, { kv: true, outboundHosts: ['api.deepl.com'], settings: ['target_language: language'] });
  assert.equal(m.cacheable, true);
});

test('an unknown option is refused instead of ignored', () => {
  assert.throws(() => manifest({ name: 'x', version: '1', event: ['customer-message'] }), /unknown manifest option event/);
});

test('name and version are required', () => {
  assert.throws(() => manifest({ version: '1' }), /manifest name must be a non-empty string/);
  assert.throws(() => manifest({ name: 'x' }), /manifest version must be a non-empty string/);
});

test('setting builders write the declaration grammar', () => {
  assert.equal(setting.string('greeting'), 'greeting: string');
  assert.equal(setting.bool('loud'), 'loud: bool');
  assert.equal(setting.int('n'), 'n: int');
  assert.equal(setting.int('n', { min: 1, max: 10 }), 'n: int(1..10)');
  assert.equal(setting.int('n', { min: 0 }), 'n: int(0..)');
  assert.equal(setting.int('n', { max: 5 }), 'n: int(..5)');
  assert.equal(setting.url('engine_url'), 'engine_url: url');
  assert.equal(setting.language('home'), 'home: language');
  assert.equal(setting.languages('spoken'), 'spoken: languages');
  assert.equal(setting.list('words'), 'words: list');
  assert.equal(setting.oneOf('engine', ['apertium', 'deepl']), 'engine: one-of(apertium|deepl)');
});

test('valid declarations pass, as the host parses them', () => {
  const settings = [
    'plain',
    'spaced : int( 1 .. 2 )',
    'big: int(-9223372036854775808..9223372036854775807)',
    'engine: one-of(a|b|c)',
    'dotted.name-x_1: list',
  ];
  assert.deepEqual(manifest({ name: 'x', version: '1', settings }).capabilities.settings, settings);
});

test('bad declarations are refused with the host reason', () => {
  const refused = (declaration, reason) =>
    assert.throws(() => manifest({ name: 'x', version: '1', settings: [declaration] }), reason, declaration);
  refused(': int', /no key name/);
  refused('bad name: int', /key name 'bad name' may only contain/);
  refused('n: integer', /unknown type 'integer'/);
  refused('n: int(5..1)', /int range 5..1 is empty/);
  refused('n: int(1-2)', /must be MIN..MAX/);
  refused('n: int(1..x)', /int bound 'x' is not a whole number/);
  refused('n: int(9223372036854775808..)', /int bound '9223372036854775808'/);
  refused('n: int(1..2', /int\(\.\.\.\) must end with '\)'/);
  refused('e: one-of()', /lists no words/);
  refused('e: one-of(a||b)', /has an empty word/);
  refused('e: one-of(a b|c)', /may not contain spaces/);
  refused('e: one-of(a|a)', /listed twice/);
});

test('a key declared twice is refused', () => {
  assert.throws(
    () => manifest({ name: 'x', version: '1', settings: ['n', 'n: int'] }),
    /setting 'n' is declared more than once/,
  );
});

test('datasets default to JSON; commands and params default to optional, named', () => {
  assert.deepEqual(dataset('roster', 'The agents'), { name: 'roster', description: 'The agents', formats: ['json'] });
  assert.deepEqual(dataset('kb', 'Articles', ['csv']).formats, ['csv']);
  const c = command('export', 'Write TMX', {
    params: [param.outputFile('output', 'The file', { required: true }), param.inputFile('input', 'A TMX file')],
    needsTenant: true,
  });
  assert.equal(c.needsTenant, true);
  assert.deepEqual(c.params[0], {
    name: 'output',
    help: 'The file',
    kind: 'output-file',
    required: true,
    positional: false,
    repeated: false,
    defaultValue: undefined,
  });
  assert.equal(c.params[1].positional, true, 'an input file is positional by default');
  assert.equal(param.value('set', 'KEY=VALUE', { repeated: true, defaultValue: 30 }).defaultValue, '30');
  assert.equal(param.flag('json', 'Print JSON').kind, 'flag');
  assert.equal(param.outputDir('out', 'Where').kind, 'output-dir');
});

test('datasets and commands the host would refuse are refused when the manifest is made', () => {
  const offering = (datasets, commands) => () => manifest({ name: 'x', version: '1', datasets, commands });
  offering([dataset('product-catalog', 'Products')], [command('import-csv', 'Import')])();
  assert.throws(offering([dataset('product_catalog', 'Products')], []), /dataset "product_catalog": names are lowercase words/);
  assert.throws(offering([dataset('kb', 'A'), dataset('kb', 'B')], []), /dataset "kb"/);
  assert.throws(offering([], [command('importCsv', 'Import')]), /command "importCsv"/);
  assert.throws(offering([], [command('run-', 'Run')]), /command "run-"/);
  assert.throws(
    offering([], [command('run', 'Run', { params: [param.value('tenant', 'Whose')] })]),
    /command 'run', parameter 'tenant': the command line reads --tenant for itself/,
  );
  assert.throws(
    offering([], [command('run', 'Run', { params: [param.flag('dry', 'Dry', { positional: true })] })]),
    /a flag is given by name, not position/,
  );
  assert.throws(
    offering([], [
      command('run', 'Run', {
        params: [param.inputFile('a', 'A', { repeated: true }), param.inputFile('b', 'B')],
      }),
    ]),
    /parameter 'a': only the last positional parameter may be repeated/,
  );
});
