/**
 * A TypeDoc plugin for the site's API reference:
 * - names each module after its package (`@bp/tensor`) instead of its path
 *   (`tensor/src`), so the pages use the names people import;
 * - leaves out members a class inherits from outside bp (`stack`, `cause`,
 *   `captureStackTrace` of `Error`): a reader looks up `ShapeError` for what
 *   bp adds, and the platform documents the rest.
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
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const members = context.project.getReflectionsByKind(ReflectionKind.Property | ReflectionKind.Method | ReflectionKind.Accessor);
    for (const r of members) {
      // An inherited member whose origin is not a reflection of this project comes from a library (lib.es5's Error).
      if (r.inheritedFrom && !r.inheritedFrom.reflection) context.project.removeReflection(r);
    }
  });
}
