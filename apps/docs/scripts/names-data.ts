/**
 * Writes the names corpus the "From backprop to a GPT" guide trains on:
 * about 8,400 public-domain English first names (Moby, via @bp/gpt's
 * `loadNames`, offline), one a line, as public/data/names.txt, so the site
 * serves them itself.
 *
 *   tsx --conditions=@bp/source scripts/names-data.ts [outDir]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNames } from '@bp/gpt/node';

const outDir = process.argv[2] ?? fileURLToPath(new URL('../public/data', import.meta.url));
await mkdir(outDir, { recursive: true });
const names = loadNames();
await writeFile(join(outDir, 'names.txt'), names.join('\n') + '\n');
console.log(`names-data: ${names.length} names in ${join(outDir, 'names.txt')}`);
