/**
 * A TypeDoc plugin: names each module after its package (`@bp/tensor`)
 * instead of its path (`tensor/src`), so the API pages use the names people
 * import.
 */
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const m = /^([\w-]+)\/src$/.exec(mod.name);
      if (m) mod.name = `@bp/${m[1]}`;
    }
  });
}
