// Setting declarations as a manifest lists them: `name` or `name: type`, in the
// grammar of contract 0.2.1 (`capabilities.settings`). The host parses the same
// grammar when it loads a plugin and refuses the plugin on a bad declaration;
// checking here too turns that load failure into an error in the author's tests.

const NAME = /^[A-Za-z0-9_.-]+$/;
const SIMPLE_TYPES = ['string', 'bool', 'int', 'url', 'language', 'languages', 'list'];
const TYPES_HELP =
  'expected string, bool, int, int(MIN..MAX), url, language, languages, one-of(a|b|...) or list';
// The host keeps int bounds in an i64.
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** Checks one declaration and returns its key; throws a TypeError naming it. */
export function checkDeclaration(declaration) {
  if (typeof declaration !== 'string') {
    throw new TypeError(`a setting declaration is a string such as 'name: int(1..10)', got ${typeof declaration}`);
  }
  const colon = declaration.indexOf(':');
  const name = (colon < 0 ? declaration : declaration.slice(0, colon)).trim();
  const bad = (reason) => new TypeError(`setting declaration '${declaration}': ${reason}`);
  if (name === '') {
    throw bad('no key name; write `name` or `name: type`');
  }
  if (!NAME.test(name)) {
    throw bad(`key name '${name}' may only contain ASCII letters, digits, '_', '-' and '.'`);
  }
  if (colon >= 0) {
    const type = declaration.slice(colon + 1).trim();
    const problem = typeProblem(type);
    if (problem !== undefined) {
      throw bad(problem);
    }
  }
  return name;
}

/** Checks a manifest's declarations, refusing a key declared twice. */
export function checkDeclarations(declarations) {
  const seen = new Set();
  for (const declaration of declarations) {
    const name = checkDeclaration(declaration);
    if (seen.has(name)) {
      throw new TypeError(`setting '${name}' is declared more than once`);
    }
    seen.add(name);
  }
}

/** What is wrong with a type, or undefined when it is valid. */
function typeProblem(type) {
  if (SIMPLE_TYPES.includes(type)) {
    return undefined;
  }
  const call = /^(int|one-of)\s*\(([\s\S]*)$/.exec(type);
  if (call === null) {
    return `unknown type '${type}'; ${TYPES_HELP}`;
  }
  const [, kind, rest] = call;
  if (!rest.endsWith(')')) {
    return `${kind}(...) must end with ')'`;
  }
  const inner = rest.slice(0, -1).trim();
  return kind === 'int' ? rangeProblem(inner) : wordsProblem(inner);
}

function rangeProblem(inner) {
  const dots = inner.indexOf('..');
  if (dots < 0) {
    return `int range '${inner}' must be MIN..MAX, MIN.. or ..MAX (inclusive bounds)`;
  }
  const bounds = [inner.slice(0, dots), inner.slice(dots + 2)].map((text) => text.trim());
  for (const text of bounds) {
    if (text !== '' && !(/^[+-]?\d+$/.test(text) && BigInt(text) >= I64_MIN && BigInt(text) <= I64_MAX)) {
      return `int bound '${text}' is not a whole number between ${I64_MIN} and ${I64_MAX}`;
    }
  }
  const [low, high] = bounds;
  if (low !== '' && high !== '' && BigInt(low) > BigInt(high)) {
    return `int range ${low}..${high} is empty: the lower bound is above the upper bound`;
  }
  return undefined;
}

function wordsProblem(inner) {
  if (inner === '') {
    return 'one-of() lists no words; write one-of(a|b|...)';
  }
  const words = inner.split('|').map((word) => word.trim());
  for (const [i, word] of words.entries()) {
    if (word === '') {
      return `one-of(${inner}) has an empty word; separate words with a single '|'`;
    }
    // Control characters spelled out: the component's engine has no Unicode property escapes.
    if (/[\s\x00-\x1f\x7f-\x9f(),]/u.test(word)) {
      return `one-of word '${word}' may not contain spaces, commas or parentheses`;
    }
    if (words.indexOf(word) !== i) {
      return `one-of word '${word}' is listed twice`;
    }
  }
  return undefined;
}

/**
 * Declarations by type, for `manifest({ settings: [...] })`: each returns the
 * declaration string the contract expects, e.g. `setting.int('max', { min: 1, max: 10 })`
 * is `'max: int(1..10)'`. A plain string is as good; these only spare the grammar.
 */
export const setting = Object.freeze({
  string: (name) => `${name}: string`,
  bool: (name) => `${name}: bool`,
  int(name, { min, max } = {}) {
    return min === undefined && max === undefined ? `${name}: int` : `${name}: int(${min ?? ''}..${max ?? ''})`;
  },
  url: (name) => `${name}: url`,
  language: (name) => `${name}: language`,
  languages: (name) => `${name}: languages`,
  list: (name) => `${name}: list`,
  oneOf: (name, words) => `${name}: one-of(${words.join('|')})`,
});
