/**
 * Example source → a function body. Sucrase strips the TypeScript and turns
 * `import { tensor } from '@bp/tensor'` into `require('@bp/tensor')`, which
 * the runner answers from the bp packages bundled into the worker. Examples
 * therefore read exactly like code in a project, imports included.
 */
import { transform } from 'sucrase';

/** The JavaScript to run inside an async function with `require` in scope. */
export function toFunctionBody(code: string): string {
  return transform(code, { transforms: ['typescript', 'imports'], production: true }).code;
}
