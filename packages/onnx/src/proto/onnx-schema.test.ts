// The committed schema is what protobufjs makes of the committed official onnx.proto.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { schemaFromProto } from '../../scripts/gen-schema.mjs';
import { ONNX_SCHEMA } from './onnx-schema.js';

describe('onnx schema', () => {
  it('matches proto/onnx.proto (run `pnpm --filter @bp/onnx schema` after updating it)', () => {
    const proto = readFileSync(new URL('../../proto/onnx.proto', import.meta.url), 'utf8');
    expect(JSON.parse(JSON.stringify(ONNX_SCHEMA))).toEqual(JSON.parse(JSON.stringify(schemaFromProto(proto))));
  });
});
