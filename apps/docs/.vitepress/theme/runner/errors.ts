/** An exception from example code as the page shows it: class, message and the example line. */
export function describeError(e: unknown): { name: string; message: string; where: string | null } {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), where: null };
  // Frames inside the example come from the AsyncFunction, named `anonymous` by V8; its
  // header takes two lines, and Sucrase keeps the example's line numbers.
  const frame = (e.stack ?? '').split('\n').find((l) => l.includes('anonymous') || l.includes('eval at'));
  const m = frame ? /<anonymous>:(\d+):(\d+)/.exec(frame) : null;
  return { name: e.name || e.constructor?.name || 'Error', message: e.message, where: m ? `line ${Number(m[1]) - 2}` : null };
}
