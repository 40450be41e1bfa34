/**
 * A character-level GPT on bp: datasets from names lists or plain text, a
 * character tokenizer, batching, and the nanoGPT training recipe (AdamW
 * with decoupled weight decay, linear warmup then cosine decay, gradient
 * clipping). The model itself is `GPT` from `@bp/layers`; the names corpus
 * loader is Node-only, under `@bp/gpt/node`.
 *
 * @packageDocumentation
 */
export { CharTokenizer } from './tokenizer.js';
export { namesDataset, textDataset, batchAt, sampleBatch } from './data.js';
export type { CharDataset, Batch } from './data.js';
export { trainGPT, evaluate, lossOf, gptOptimizer } from './train.js';
export type { TrainGPTOptions, TrainGPTResult } from './train.js';
