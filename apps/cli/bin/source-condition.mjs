// Module resolution hook: adds the `@bp/source` export condition, so
// `@bp/tensor` and friends load from `src/*.ts` instead of a `dist` that a
// fresh clone does not have yet.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes('@bp/source') ? context.conditions : [...context.conditions, '@bp/source'];
  return nextResolve(specifier, { ...context, conditions });
}
