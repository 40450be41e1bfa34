/**
 * JSON fixtures are imported as modules (bundlers and vitest inline them).
 * Declared here instead of enabling `resolveJsonModule`, so any package that
 * type-checks these sources (their tests import the suite) needs no extra option.
 */
declare module '*.json' {
  const value: unknown;
  export default value;
}
