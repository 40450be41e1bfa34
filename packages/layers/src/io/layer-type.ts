import { Module } from '../module.js';
import { isBuiltinLayerType } from './architecture.js';

/** The class on `layer`'s prototype chain that defines the `layerType` it reports, or null (Module's own). */
function typeDefiningClass(layer: Module): (abstract new (...args: never[]) => Module) | null {
  for (
    let proto = Object.getPrototypeOf(layer) as object | null;
    proto !== null && proto !== Module.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (Object.hasOwn(proto, 'layerType')) return (proto as { constructor: abstract new (...args: never[]) => Module }).constructor;
  }
  return null;
}

/**
 * The built-in layer whose `layerType` `layer` reports although it computes something else: a
 * subclass (`class Scaled extends Linear`) with a `forward` of its own but the built-in's name.
 * Null for a built-in layer itself, a subclass that only changes how it is constructed, and a
 * layer of a type of its own.
 */
export function disguisedBuiltin(layer: Module): string | null {
  const type = layer.layerType;
  if (!isBuiltinLayerType(type)) return null;
  // The built-in class is the one whose layerType getter names the type; a subclass inherits it.
  const base = typeDefiningClass(layer);
  if (base === null || layer.constructor === base || layer.forward === base.prototype.forward) return null;
  return type;
}

/**
 * The type a saved file records for `layer`: its `layerType`, except for a subclass of a built-in
 * layer that computes something else under the built-in's name (see {@link disguisedBuiltin}). That
 * one is recorded under its class's name, so that `load` asks for its factory (`registerLayer`)
 * rather than rebuilding the plain built-in layer and computing other outputs without a word.
 */
export function recordedLayerType(layer: Module): string {
  const base = disguisedBuiltin(layer);
  if (base === null) return layer.layerType;
  const own = layer.constructor.name;
  return own !== '' && own !== base ? own : `${base}Subclass`;
}
