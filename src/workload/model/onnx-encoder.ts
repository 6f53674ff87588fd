/**
 * A small, dependency-free ONNX protobuf encoder and a minimal decoder.
 *
 * Field numbers follow onnx/onnx.proto (proto2):
 *   ModelProto:        ir_version=1 producer_name=2 producer_version=3 domain=4 model_version=5
 *                      doc_string=6 graph=7 opset_import=8 metadata_props=14
 *   OperatorSetIdProto: domain=1 version=2
 *   GraphProto:        node=1 name=2 initializer=5 doc_string=10 input=11 output=12 value_info=13
 *   NodeProto:         input=1 output=2 name=3 op_type=4 attribute=5 doc_string=6 domain=7
 *   AttributeProto:    name=1 f=2 i=3 s=4 t=5 g=6 floats=7 ints=8 strings=9 type=20
 *   TensorProto:       dims=1 data_type=2 float_data=4 int32_data=5 int64_data=7 name=8
 *                      raw_data=9 external_data=13 data_location=14
 *   ValueInfoProto:    name=1 type=2 doc_string=3
 *   TypeProto:         tensor_type=1 (sequence_type=4 map_type=5 optional_type=9 sparse_tensor_type=8)
 *   TypeProto.Tensor:  elem_type=1 shape=2
 *   TensorShapeProto:  dim=1;  Dimension: dim_value=1 dim_param=2
 *
 * The encoder keeps large byte payloads (raw_data) as references and copies
 * them exactly once, into the final Buffer.
 */

/** TensorProto.DataType values. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'undefined',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
};

/** Lower-case name of a TensorProto.DataType ("float32", "int64", …), or "type<N>" if unknown. */
export function dataTypeName(t: number): string {
  return DATA_TYPE_NAMES[t] ?? `type${t}`;
}

/** AttributeProto.AttributeType values. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const TWO_64 = 1n << 64n;

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/**
 * Accumulates a protobuf message as a list of byte chunks. Small scalar fields
 * go to a growing scratch array; large byte fields and nested messages are
 * referenced, not copied, until finish().
 */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private scratch = new Uint8Array(256);
  private pos = 0;
  private flushedBytes = 0;

  /** Total encoded length so far. */
  get length(): number {
    return this.flushedBytes + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    const next = new Uint8Array(Math.max(this.scratch.length * 2, this.pos + n));
    next.set(this.scratch.subarray(0, this.pos));
    this.scratch = next;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.parts.push(this.scratch.slice(0, this.pos));
    this.flushedBytes += this.pos;
    this.pos = 0;
  }

  private pushPart(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (bytes.length <= 64) {
      this.ensure(bytes.length);
      this.scratch.set(bytes, this.pos);
      this.pos += bytes.length;
      return;
    }
    this.flush();
    this.parts.push(bytes);
    this.flushedBytes += bytes.length;
  }

  /** Unsigned varint; negative values are written as 64-bit two's complement (10 bytes). */
  varint(value: number | bigint): this {
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new RangeError(`varint: not an integer: ${value}`);
      if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
        this.ensure(10);
        let v = value;
        while (v >= 0x80) {
          this.scratch[this.pos++] = (v % 0x80) | 0x80;
          v = Math.floor(v / 0x80);
        }
        this.scratch[this.pos++] = v;
        return this;
      }
      value = BigInt(value);
    }
    let v = value < 0n ? value + TWO_64 : value;
    if (v < 0n || v >= TWO_64) throw new RangeError(`varint: out of 64-bit range: ${value}`);
    this.ensure(10);
    while (v >= 0x80n) {
      this.scratch[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.pos++] = Number(v);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** int64/int32/enum/uint64 field (varint wire type). */
  intField(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  floatField(field: number, value: number): this {
    this.tag(field, WIRE_I32);
    this.ensure(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset).setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  doubleField(field: number, value: number): this {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    new DataView(this.scratch.buffer, this.scratch.byteOffset).setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(bytes.length);
    this.pushPart(bytes);
    return this;
  }

  stringField(field: number, value: string): this {
    return this.bytesField(field, Buffer.from(value, 'utf8'));
  }

  messageField(field: number, message: ProtoWriter): this {
    this.tag(field, WIRE_LEN).varint(message.length);
    message.flush();
    for (const part of message.parts) this.pushPart(part);
    return this;
  }

  packedIntsField(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    return this.messageField(field, inner);
  }

  packedFloatsField(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return this.bytesField(field, bytes);
  }

  /** The encoded message as one Buffer (one copy of every chunk). */
  finish(): Buffer {
    this.flush();
    const out = Buffer.allocUnsafe(this.flushedBytes);
    let off = 0;
    for (const part of this.parts) {
      out.set(part, off);
      off += part.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// ONNX message specs and encoders
// ---------------------------------------------------------------------------

export type AttributeSpec =
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'ints'; value: readonly number[] }
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'floats'; value: readonly number[] }
  | { name: string; type: 'string'; value: string };

export interface NodeSpec {
  opType: string;
  name?: string;
  domain?: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly AttributeSpec[];
}

export interface TensorSpec {
  name: string;
  /** TensorProto.DataType */
  dataType: number;
  dims: readonly number[];
  /** Little-endian element bytes (raw_data). */
  rawData: Uint8Array;
}

/** A dimension: a fixed size, a symbolic name (dim_param), or null (unknown). */
export type Dim = number | string | null;

export interface ValueInfoSpec {
  name: string;
  /** TensorProto.DataType */
  elemType: number;
  /** null: shape unknown (no shape field). */
  shape: readonly Dim[] | null;
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
  docString?: string;
}

export interface ModelSpec {
  irVersion: number;
  opsetImports: readonly { domain: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadataProps?: readonly { key: string; value: string }[];
  graph: GraphSpec;
}

function encodeAttribute(a: AttributeSpec): ProtoWriter {
  const w = new ProtoWriter().stringField(1, a.name);
  switch (a.type) {
    case 'float':
      w.floatField(2, a.value).intField(20, AttributeType.FLOAT);
      break;
    case 'int':
      w.intField(3, a.value).intField(20, AttributeType.INT);
      break;
    case 'string':
      w.stringField(4, a.value).intField(20, AttributeType.STRING);
      break;
    case 'floats':
      w.packedFloatsField(7, a.value).intField(20, AttributeType.FLOATS);
      break;
    case 'ints':
      // proto2 `repeated int64 ints = 8` is unpacked by declaration; parsers accept both,
      // but emit the declared (unpacked) form.
      for (const v of a.value) w.intField(8, v);
      w.intField(20, AttributeType.INTS);
      break;
  }
  return w;
}

export function encodeNode(n: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.stringField(1, i);
  for (const o of n.outputs) w.stringField(2, o);
  if (n.name !== undefined) w.stringField(3, n.name);
  w.stringField(4, n.opType);
  for (const a of n.attributes ?? []) w.messageField(5, encodeAttribute(a));
  if (n.domain !== undefined && n.domain !== '') w.stringField(7, n.domain);
  return w;
}

export function encodeTensor(t: TensorSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.intField(1, d); // repeated int64 dims = 1 (unpacked in proto2)
  w.intField(2, t.dataType);
  w.stringField(8, t.name);
  w.bytesField(9, t.rawData);
  return w;
}

export function encodeValueInfo(v: ValueInfoSpec): ProtoWriter {
  const tensorType = new ProtoWriter().intField(1, v.elemType);
  if (v.shape !== null) {
    const shape = new ProtoWriter();
    for (const d of v.shape) {
      const dim = new ProtoWriter();
      if (typeof d === 'number') dim.intField(1, d);
      else if (typeof d === 'string') dim.stringField(2, d);
      shape.messageField(1, dim);
    }
    tensorType.messageField(2, shape);
  }
  const type = new ProtoWriter().messageField(1, tensorType);
  return new ProtoWriter().stringField(1, v.name).messageField(2, type);
}

export function encodeGraph(g: GraphSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.messageField(1, encodeNode(n));
  w.stringField(2, g.name);
  for (const t of g.initializers) w.messageField(5, encodeTensor(t));
  if (g.docString !== undefined) w.stringField(10, g.docString);
  for (const i of g.inputs) w.messageField(11, encodeValueInfo(i));
  for (const o of g.outputs) w.messageField(12, encodeValueInfo(o));
  return w;
}

/** Serialize a ModelProto. */
export function encodeModel(m: ModelSpec): Buffer {
  const w = new ProtoWriter();
  w.intField(1, m.irVersion);
  if (m.producerName !== undefined) w.stringField(2, m.producerName);
  if (m.producerVersion !== undefined) w.stringField(3, m.producerVersion);
  if (m.domain !== undefined) w.stringField(4, m.domain);
  if (m.modelVersion !== undefined) w.intField(5, m.modelVersion);
  if (m.docString !== undefined) w.stringField(6, m.docString);
  w.messageField(7, encodeGraph(m.graph));
  for (const op of m.opsetImports) {
    const o = new ProtoWriter();
    if (op.domain !== '') o.stringField(1, op.domain);
    o.intField(2, op.version);
    w.messageField(8, o);
  }
  for (const p of m.metadataProps ?? []) {
    w.messageField(14, new ProtoWriter().stringField(1, p.key).stringField(2, p.value));
  }
  return w.finish();
}

// ---------------------------------------------------------------------------
// Reader / minimal decoder
// ---------------------------------------------------------------------------

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoDecodeError';
  }
}

/** A bounds-checked protobuf reader over [start, end) of a byte array. */
export class ProtoReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Varint as a JS number when it fits exactly; larger or negative 64-bit values as signed via BigInt. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError('truncated varint');
      const b = this.bytes[this.pos++]!;
      if (i < 7) {
        result += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) return result;
      } else {
        // Rare: > 49 bits. Re-read with BigInt for exactness (int64 negatives use 10 bytes).
        this.pos -= i + 1;
        return this.bigVarint();
      }
    }
    throw new ProtoDecodeError('varint too long');
  }

  private bigVarint(): number {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError('truncated varint');
      const b = this.bytes[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (b < 0x80) {
        result &= TWO_64 - 1n;
        if (result >= 1n << 63n) result -= TWO_64; // int64 two's complement
        return Number(result);
      }
    }
    throw new ProtoDecodeError('varint too long');
  }

  /** Returns [field, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new ProtoDecodeError('field number 0');
    return [field, t & 7];
  }

  /** Sub-range of a length-delimited field. */
  lengthDelimited(): { start: number; end: number } {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (len < 0 || end > this.end) throw new ProtoDecodeError('length-delimited field overruns its message');
    this.pos = end;
    return { start, end };
  }

  sub(): ProtoReader {
    const { start, end } = this.lengthDelimited();
    return new ProtoReader(this.bytes, start, end);
  }

  string(): string {
    const { start, end } = this.lengthDelimited();
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString('utf8');
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_I32:
        this.advance(4);
        return;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wire}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtoDecodeError('truncated fixed-width field');
    this.pos += n;
  }
}

export interface DecodedValueInfo {
  name: string;
  /** 'tensor', or another TypeProto kind ('sequence', 'map', 'optional', 'sparse_tensor', 'unknown'). */
  kind: string;
  /** TensorProto.DataType (0 when not a tensor or not given). */
  elemType: number;
  /** null when the type has no shape. */
  shape: Dim[] | null;
}

export interface DecodedInitializer {
  name: string;
  dataType: number;
  dims: number[];
  /** TensorProto.data_location == EXTERNAL or external_data entries present. */
  external: boolean;
}

export interface DecodedModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: { domain: string; version: number }[];
  graph: {
    name: string;
    nodeCount: number;
    inputs: DecodedValueInfo[];
    outputs: DecodedValueInfo[];
    initializers: DecodedInitializer[];
  };
}

function expectWire(field: string, wire: number, want: number): void {
  if (wire !== want) throw new ProtoDecodeError(`${field}: wire type ${wire}, expected ${want}`);
}

function decodeShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) {
      expectWire('TensorShapeProto.dim', w, WIRE_LEN);
      const d = r.sub();
      let dim: Dim = null;
      while (!d.done) {
        const [df, dw] = d.tag();
        if (df === 1 && dw === WIRE_VARINT) dim = d.varint();
        else if (df === 2 && dw === WIRE_LEN) dim = d.string();
        else d.skip(dw);
      }
      dims.push(dim);
    } else r.skip(w);
  }
  return dims;
}

function decodeValueInfo(r: ProtoReader): DecodedValueInfo {
  const out: DecodedValueInfo = { name: '', kind: 'unknown', elemType: 0, shape: null };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) {
      expectWire('ValueInfoProto.name', w, WIRE_LEN);
      out.name = r.string();
    } else if (f === 2) {
      expectWire('ValueInfoProto.type', w, WIRE_LEN);
      const t = r.sub();
      while (!t.done) {
        const [tf, tw] = t.tag();
        if (tf === 1 && tw === WIRE_LEN) {
          out.kind = 'tensor';
          const tt = t.sub();
          while (!tt.done) {
            const [ttf, ttw] = tt.tag();
            if (ttf === 1 && ttw === WIRE_VARINT) out.elemType = tt.varint();
            else if (ttf === 2 && ttw === WIRE_LEN) out.shape = decodeShape(tt.sub());
            else tt.skip(ttw);
          }
        } else if (tw === WIRE_LEN && (tf === 4 || tf === 5 || tf === 8 || tf === 9)) {
          out.kind = { 4: 'sequence', 5: 'map', 8: 'sparse_tensor', 9: 'optional' }[tf]!;
          t.skip(tw);
        } else t.skip(tw);
      }
    } else r.skip(w);
  }
  return out;
}

function decodeInitializer(r: ProtoReader): DecodedInitializer {
  const out: DecodedInitializer = { name: '', dataType: 0, dims: [], external: false };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1) {
      if (w === WIRE_LEN) {
        const p = r.sub();
        while (!p.done) out.dims.push(p.varint());
      } else {
        expectWire('TensorProto.dims', w, WIRE_VARINT);
        out.dims.push(r.varint());
      }
    } else if (f === 2 && w === WIRE_VARINT) out.dataType = r.varint();
    else if (f === 8 && w === WIRE_LEN) out.name = r.string();
    else if (f === 13 && w === WIRE_LEN) {
      out.external = true;
      r.skip(w);
    } else if (f === 14 && w === WIRE_VARINT) {
      if (r.varint() === 1) out.external = true;
    } else r.skip(w); // raw_data etc.: skipped without copying
  }
  return out;
}

function decodeGraph(r: ProtoReader): DecodedModel['graph'] {
  const g: DecodedModel['graph'] = { name: '', nodeCount: 0, inputs: [], outputs: [], initializers: [] };
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_LEN) {
      g.nodeCount++;
      r.skip(w);
    } else if (f === 2 && w === WIRE_LEN) g.name = r.string();
    else if (f === 5 && w === WIRE_LEN) g.initializers.push(decodeInitializer(r.sub()));
    else if (f === 11 && w === WIRE_LEN) g.inputs.push(decodeValueInfo(r.sub()));
    else if (f === 12 && w === WIRE_LEN) g.outputs.push(decodeValueInfo(r.sub()));
    else r.skip(w);
  }
  return g;
}

/**
 * Decode the parts of a ModelProto needed to describe it: IR version, opsets,
 * producer, and the main graph's inputs, outputs and initializers (names, types,
 * dims; tensor data is skipped, not copied). Throws ProtoDecodeError when the
 * bytes are not a well-formed ModelProto with a graph.
 */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const r = new ProtoReader(bytes);
  const m: DecodedModel = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    opsetImports: [],
    graph: { name: '', nodeCount: 0, inputs: [], outputs: [], initializers: [] },
  };
  let sawGraph = false;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === WIRE_VARINT) m.irVersion = r.varint();
    else if (f === 2 && w === WIRE_LEN) m.producerName = r.string();
    else if (f === 3 && w === WIRE_LEN) m.producerVersion = r.string();
    else if (f === 7 && w === WIRE_LEN) {
      m.graph = decodeGraph(r.sub());
      sawGraph = true;
    } else if (f === 8 && w === WIRE_LEN) {
      const o = r.sub();
      const op = { domain: '', version: 0 };
      while (!o.done) {
        const [of, ow] = o.tag();
        if (of === 1 && ow === WIRE_LEN) op.domain = o.string();
        else if (of === 2 && ow === WIRE_VARINT) op.version = o.varint();
        else o.skip(ow);
      }
      m.opsetImports.push(op);
    } else r.skip(w);
  }
  if (m.irVersion <= 0) throw new ProtoDecodeError('no ir_version: not an ONNX ModelProto');
  if (!sawGraph) throw new ProtoDecodeError('no graph: not an ONNX ModelProto');
  return m;
}
