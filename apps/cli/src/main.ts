/**
 * Entry point of the `bp` command: runs the program and turns every outcome
 * into an exit status. 0 success, 1 a runtime failure (a bad file, a
 * non-finite loss), 2 a usage error (an unknown flag or value), 130 after
 * Ctrl-C. Errors caused by the user's input print one clear line; stack
 * traces only with `--verbose`.
 */
import { CommanderError } from 'commander';
import { repeatedOption } from './parse-args.js';
import { buildProgram } from './program.js';
import { err as c } from './style.js';
import { terminalSafe } from './terminal-safe.js';
import { UsageError } from './usage-error.js';

/** Exit statuses of the `bp` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

const USER_ERROR_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'EEXIST', 'ENOSPC', 'EROFS', 'EDQUOT']);

/** Whether `e` is a problem with the user's input or environment rather than a bug in bp. */
async function isUserError(e: unknown): Promise<boolean> {
  // Loaded here, not up front, so parsing and --help start without the tensor library.
  const { BpError } = await import('@bp/tensor');
  if (e instanceof BpError) return true;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && USER_ERROR_CODES.has(code);
}

/** Runs `bp` with `argv` (without the node and script paths) and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const { code, error } = await run(argv, argv.includes('--verbose'));
  // With --json, a failure is JSON on standard output too, so a script reading it sees why.
  if (code !== EXIT.ok && error !== null && argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error, exitCode: code })}\n`);
  }
  return code;
}

/** Runs the program: its exit status, and the message of the error that ended it (null when none). */
async function run(argv: string[], verbose: boolean): Promise<{ code: number; error: string | null }> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    const repeated = repeatedOption(argv);
    if (repeated) {
      const values = repeated.first || repeated.second ? ` (${repeated.first || 'on'}, then ${repeated.second || 'on'})` : '';
      throw new UsageError(`${repeated.name} is given twice${values}; give it once`);
    }
    await program.parseAsync(argv, { from: 'user' });
    return { code: exitCode, error: null };
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already printed the message (or the help / version).
      return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage, error: e.message.replace(/^error: /, '') };
    }
    // Messages can carry names read from files (a layer type, a class): never let them reach the terminal raw.
    const message = terminalSafe(e instanceof Error ? e.message : String(e));
    if (e instanceof UsageError) {
      process.stderr.write(`${c.red(`error: ${message}`)}\n${c.dim('(add --help for usage and examples)')}\n`);
      if (verbose) process.stderr.write(`${e.stack}\n`);
      return { code: EXIT.usage, error: message };
    }
    process.stderr.write(`${c.red(`error: ${message}`)}\n`);
    if (verbose) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    else if (!(await isUserError(e))) process.stderr.write(c.dim('(run again with --verbose for the stack trace)\n'));
    return { code: EXIT.failure, error: message };
  }
}
