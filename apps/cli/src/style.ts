/**
 * Terminal colours. They are on only when the stream is a terminal and the
 * user has not set `NO_COLOR` (https://no-color.org): piped output and log
 * files stay free of escape codes.
 */
import pc from 'picocolors';

/** The colour functions the CLI uses; each is the identity when colours are off. */
export type Colors = ReturnType<typeof pc.createColors>;

/** Whether colours belong on `stream`: a TTY, `NO_COLOR` unset (or empty), and not a dumb terminal. */
export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** Colours for standard output. */
export const out: Colors = pc.createColors(colorEnabled(process.stdout));
/** Colours for standard error. */
export const err: Colors = pc.createColors(colorEnabled(process.stderr));
