/**
 * A mistake in how the command was called (a bad flag value, options that do
 * not go together). `main` prints it without a stack trace and exits with 2,
 * the status shells and CI scripts read as "fix the command line".
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
