/**
 * ONNX exporters of the transformer layers: `Embedding` (Gather),
 * `LayerNorm` (LayerNormalization, opset 17) and the whole `GPT` (token and
 * position embeddings, each block's LayerNorms, causal multi-head
 * attention written out as MatMul / Softmax with an additive mask, the GELU
 * MLP, the final LayerNorm and the tied or separate output projection).
 * Weights keep their state-dict names (`wte.weight`, `h.0.ln_1.weight`).
 */
import type { Embedding, GPT, LayerNorm, Linear, Module, MultiheadAttention } from '@bp/layers';
import { ArgumentError, fmtShape } from '@bp/tensor';
import { float, int, ints } from './graph-builder.js';
import type { LayerExportContext, LayerExporter } from './layer-exporters.js';

/** Gather of the rows of the weight at the input's ids (int64 in the graph). */
export function exportEmbedding(layer: Module, ctx: LayerExportContext): string {
  const e = layer as Embedding;
  const w = ctx.graph.addFloat(`${ctx.path}.weight`, e.weight.dataSync(), e.weight.shape);
  return ctx.graph.addNode(`/${ctx.path}/Gather`, 'Gather', [w, ctx.input], { axis: int(0) });
}

/** LayerNormalization over the last `normalizedShape.length` axes (ones and zeros where the layer has no affine weights). */
export function exportLayerNorm(layer: Module, ctx: LayerExportContext): string {
  const ln = layer as LayerNorm;
  const { graph, path } = ctx;
  const shape = ln.normalizedShape;
  const n = shape.reduce((a, b) => a * b, 1);
  const scale = ln.weight
    ? graph.addFloat(`${path}.weight`, ln.weight.dataSync(), shape)
    : graph.addFloat(`/${path}/scale`, new Float32Array(n).fill(1), shape);
  const inputs = [ctx.input, scale];
  if (ln.bias) inputs.push(graph.addFloat(`${path}.bias`, ln.bias.dataSync(), shape));
  return graph.addNode(`/${path}/LayerNormalization`, 'LayerNormalization', inputs, { axis: int(-shape.length), epsilon: float(ln.eps) });
}

/** Exports a sublayer of a GPT at `path` (its state-dict prefix) with its own exporter. */
function sub(
  ctx: LayerExportContext,
  exporters: (type: string) => LayerExporter | undefined,
  layer: Module,
  path: string,
  input: string,
  shape: number[],
): string {
  const ex = exporters(layer.layerType);
  if (!ex) throw new ArgumentError('exportOnnx', `layer ${layer.layerType} at '${path}' has no ONNX exporter`);
  return ex(layer, { ...ctx, path, input, inputShape: shape, outputShape: shape });
}

/**
 * Causal self-attention of `mha` on `x` `[batch, T, C]`: per head,
 * `softmax(q kᵀ / sqrt(d) + mask) v` with `mask` 0 on and below the
 * diagonal and −∞ above it, then the output projection.
 */
function exportCausalSelfAttention(
  ctx: LayerExportContext,
  exporters: (type: string) => LayerExporter | undefined,
  mha: MultiheadAttention,
  path: string,
  x: string,
  T: number,
): string {
  const { graph } = ctx;
  const C = mha.embedDim;
  const H = mha.numHeads;
  const D = C / H;
  const w = mha.inProjWeight.dataSync();
  const b = mha.inProjBias?.dataSync() ?? null;
  const node = (op: string, inputs: string[], attrs = {}) => graph.addNode(`/${path}/${op}`, op.replace(/_.*/, ''), inputs, attrs);
  const heads = graph.addInt64(`/${path}/heads_shape`, [0, -1, H, D], [4]);
  // q, k and v: rows [0, C), [C, 2C), [2C, 3C) of in_proj_weight, stored transposed ([C, C] = Wᵀ) for MatMul.
  const project = (i: number, name: string, perm: number[]): string => {
    const wt = new Float32Array(C * C);
    for (let r = 0; r < C; r++) for (let c = 0; c < C; c++) wt[c * C + r] = w[(i * C + r) * C + c];
    let y = node(`MatMul_${name}`, [x, graph.addFloat(`${path}.in_proj_weight.${name}_t`, wt, [C, C])]);
    if (b) y = node(`Add_${name}`, [y, graph.addFloat(`${path}.in_proj_bias.${name}`, b.subarray(i * C, (i + 1) * C), [C])]);
    return node(`Transpose_${name}`, [node(`Reshape_${name}`, [y, heads])], { perm: ints(perm) });
  };
  const q = project(0, 'q', [0, 2, 1, 3]); // [B, H, T, D]
  const kT = project(1, 'k', [0, 2, 3, 1]); // [B, H, D, T]
  const v = project(2, 'v', [0, 2, 1, 3]); // [B, H, T, D]
  const scores = node('Mul_scale', [node('MatMul_scores', [q, kT]), graph.addFloat(`/${path}/scale`, [1 / Math.sqrt(D)], [])]);
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -Infinity;
  const masked = node('Add_causal_mask', [scores, graph.addFloat(`/${path}/causal_mask`, mask, [T, T])]);
  const weights = node('Softmax', [masked], { axis: int(-1) });
  const mixed = node('Transpose_heads', [node('MatMul_values', [weights, v])], { perm: ints([0, 2, 1, 3]) }); // [B, T, H, D]
  const merged = node('Reshape_merge', [mixed, graph.addInt64(`/${path}/merge_shape`, [0, -1, C], [3])]);
  return sub(ctx, exporters, mha.outProj, `${path}.out_proj`, merged, [1, T, C]);
}

/**
 * The whole GPT in eval form for ids `[batch, T]` (T from the export's
 * `inputShape`, at most `blockSize`): logits `[batch, T, vocabSize]`.
 */
export function gptExporter(exporters: (type: string) => LayerExporter | undefined): LayerExporter {
  return (layer, ctx) => {
    const gpt = layer as GPT;
    const { graph } = ctx;
    if (ctx.inputShape.length !== 2)
      throw new ArgumentError('exportOnnx', `GPT takes ids [batch, time], got an input of ${fmtShape(ctx.inputShape)}`);
    const T = ctx.inputShape[1];
    const C = gpt.config.nEmbd;
    // At the root a layer's path is its type: the weights then keep their plain state-dict names.
    const prefix = ctx.path === layer.layerType ? '' : `${ctx.path}.`;
    const shape = [1, T, C];
    const wte = graph.addFloat(`${prefix}wte.weight`, gpt.wte.weight.dataSync(), gpt.wte.weight.shape);
    const tok = graph.addNode(`/${prefix}wte/Gather`, 'Gather', [wte, ctx.input], { axis: int(0) });
    // The whole position table (so importOnnx finds the parameter it rebuilds), its first T rows sliced when T is shorter.
    const B = gpt.config.blockSize;
    const wpe = graph.addFloat(`${prefix}wpe.weight`, gpt.wpe.weight.dataSync(), [B, C]);
    const pos =
      T === B
        ? wpe
        : graph.addNode(`/${prefix}wpe/Slice`, 'Slice', [
            wpe,
            graph.addInt64(`/${prefix}wpe/starts`, [0], [1]),
            graph.addInt64(`/${prefix}wpe/ends`, [T], [1]),
            graph.addInt64(`/${prefix}wpe/axes`, [0], [1]),
          ]);
    let x = graph.addNode(`/${prefix}Add_positions`, 'Add', [tok, pos]);
    [...gpt.h].forEach((m, i) => {
      const p = `${prefix}h.${i}`;
      const b = m as unknown as {
        ln_1: LayerNorm;
        attn: MultiheadAttention;
        ln_2: LayerNorm;
        mlp: { c_fc: Linear; gelu: Module; c_proj: Linear };
      };
      const h1 = sub(ctx, exporters, b.ln_1, `${p}.ln_1`, x, shape);
      x = graph.addNode(`/${p}/Add_attn`, 'Add', [x, exportCausalSelfAttention(ctx, exporters, b.attn, `${p}.attn`, h1, T)]);
      const h2 = sub(ctx, exporters, b.ln_2, `${p}.ln_2`, x, shape);
      const up = sub(ctx, exporters, b.mlp.c_fc, `${p}.mlp.c_fc`, h2, shape);
      const act = sub(ctx, exporters, b.mlp.gelu, `${p}.mlp.gelu`, up, [1, T, 4 * C]);
      const down = sub(ctx, exporters, b.mlp.c_proj, `${p}.mlp.c_proj`, act, [1, T, 4 * C]);
      x = graph.addNode(`/${p}/Add_mlp`, 'Add', [x, down]);
    });
    x = sub(ctx, exporters, gpt.ln_f, `${prefix}ln_f`, x, shape);
    if (gpt.lm_head) return sub(ctx, exporters, gpt.lm_head, `${prefix}lm_head`, x, shape);
    // Tied: the token embedding, transposed, is the output projection.
    const wteT = graph.addNode(`/${prefix}lm_head/Transpose`, 'Transpose', [wte], { perm: ints([1, 0]) });
    return graph.addNode(`/${prefix}lm_head/MatMul`, 'MatMul', [x, wteT]);
  };
}
