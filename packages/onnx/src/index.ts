/**
 * @bp/onnx: take a bp model elsewhere. `exportOnnx` writes a model as ONNX
 * (opset 17+, dynamic batch) for ONNX Runtime in Node, the browser or any
 * other ONNX tool; `importOnnx` reads such a file back into a bp
 * `Sequential` with its weights.
 *
 * @example
 * import { exportOnnx, importOnnx } from '@bp/onnx';
 * const bytes = exportOnnx(model, { inputShape: [1, 28, 28] });
 * const again = importOnnx(bytes);
 *
 * @packageDocumentation
 */
export { exportOnnx, DEFAULT_OPSET } from './export/export-onnx.js';
export type { ExportOnnxOptions } from './export/export-onnx.js';
export { registerOnnxExporter, exportableLayerTypes } from './export/layer-exporters.js';
export type { LayerExporter, LayerExportContext } from './export/layer-exporters.js';
export { GraphBuilder, int, ints, float, str } from './export/graph-builder.js';
export type { Attr } from './export/graph-builder.js';
export { Normalize } from './normalize.js';
export { importOnnx } from './import/import-onnx.js';
export type { ImportOnnxOptions } from './import/import-onnx.js';
export { registerOnnxImporter, importableOpTypes } from './import/node-importers.js';
export type { NodeImporter, NodeImportContext } from './import/node-importers.js';
export type { Constant } from './import/constants.js';
