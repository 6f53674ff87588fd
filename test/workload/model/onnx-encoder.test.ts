import { describe, expect, it } from 'vitest';
import { readModelIO } from '../../../src/workload/model/model-io.js';
import {
  DataType,
  ProtoDecodeError,
  ProtoReader,
  ProtoWriter,
  decodeModel,
  encodeModel,
  type ModelSpec,
} from '../../../src/workload/model/onnx-encoder.js';

function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

const tiny: ModelSpec = {
  irVersion: 7,
  opsetImports: [
    { domain: '', version: 13 },
    { domain: 'com.example', version: 2 },
  ],
  producerName: 'test',
  producerVersion: '0',
  graph: {
    name: 'tiny',
    nodes: [
      { opType: 'Add', name: 'add', inputs: ['x', 'bias'], outputs: ['y'] },
      {
        opType: 'Transpose',
        name: 't',
        inputs: ['y'],
        outputs: ['z'],
        attributes: [{ name: 'perm', type: 'ints', value: [1, 0] }],
      },
    ],
    initializers: [{ name: 'bias', dataType: DataType.FLOAT, dims: [3], rawData: f32bytes([1, 2, 3]) }],
    inputs: [
      { name: 'x', elemType: DataType.FLOAT, shape: ['batch', 3] },
      // IR < 4 style: an initializer listed as an input too; readModelIO must drop it.
      { name: 'bias', elemType: DataType.FLOAT, shape: [3] },
    ],
    outputs: [
      { name: 'z', elemType: DataType.FLOAT, shape: [3, null] },
      { name: 'y', elemType: DataType.INT64, shape: null },
    ],
  },
};

describe('ProtoWriter / ProtoReader', () => {
  it('round-trips varints, including 64-bit and negative values', () => {
    const values = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40)];
    const w = new ProtoWriter();
    for (const v of values) w.varint(v);
    const r = new ProtoReader(w.finish());
    expect(values.map(() => r.varint())).toEqual(values);
    expect(r.done).toBe(true);
  });

  it('encodes varints like protobuf', () => {
    expect([...new ProtoWriter().varint(300).finish()]).toEqual([0xac, 0x02]);
    expect([...new ProtoWriter().varint(-1).finish()]).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
    // field 1, wire type 0, value 150 — the protobuf docs' example
    expect([...new ProtoWriter().intField(1, 150).finish()]).toEqual([0x08, 0x96, 0x01]);
  });

  it('rejects truncated or overrunning input', () => {
    expect(() => new ProtoReader(new Uint8Array([0x80])).varint()).toThrow(ProtoDecodeError);
    // field 2, length-delimited, length 10, but only 1 byte follows
    const r = new ProtoReader(new Uint8Array([0x12, 0x0a, 0x00]));
    r.tag();
    expect(() => r.lengthDelimited()).toThrow(ProtoDecodeError);
  });
});

describe('encodeModel / decodeModel', () => {
  it('round-trips graph I/O, symbolic and unknown dims, opsets and initializers', () => {
    const bytes = encodeModel(tiny);
    const m = decodeModel(bytes);
    expect(m.irVersion).toBe(7);
    expect(m.producerName).toBe('test');
    expect(m.opsetImports).toEqual([
      { domain: '', version: 13 },
      { domain: 'com.example', version: 2 },
    ]);
    expect(m.graph.name).toBe('tiny');
    expect(m.graph.nodeCount).toBe(2);
    expect(m.graph.inputs).toEqual([
      { name: 'x', kind: 'tensor', elemType: 1, shape: ['batch', 3] },
      { name: 'bias', kind: 'tensor', elemType: 1, shape: [3] },
    ]);
    expect(m.graph.outputs).toEqual([
      { name: 'z', kind: 'tensor', elemType: 1, shape: [3, null] },
      { name: 'y', kind: 'tensor', elemType: 7, shape: null },
    ]);
    expect(m.graph.initializers).toEqual([{ name: 'bias', dataType: 1, dims: [3], external: false }]);
  });

  it('readModelIO lists real inputs only, with dtype names', () => {
    const io = readModelIO(encodeModel(tiny));
    expect(io.inputs).toEqual([{ name: 'x', kind: 'tensor', elemType: 1, dtype: 'float32', shape: ['batch', 3] }]);
    expect(io.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([
      ['z', 'float32', [3, null]],
      ['y', 'int64', null],
    ]);
    expect(io.initializerNames).toEqual(['bias']);
    expect(io.externalInitializers).toEqual([]);
  });

  it('is deterministic', () => {
    expect(encodeModel(tiny).equals(encodeModel(tiny))).toBe(true);
  });

  it('refuses bytes that are not a ModelProto', () => {
    expect(() => decodeModel(Buffer.from('hello, this is not onnx at all'))).toThrow(ProtoDecodeError);
    expect(() => decodeModel(new Uint8Array(0))).toThrow(ProtoDecodeError);
    // A valid protobuf with only ir_version: no graph.
    expect(() => decodeModel(new ProtoWriter().intField(1, 7).finish())).toThrow(/no graph/);
  });
});
