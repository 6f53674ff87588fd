/**
 * Read an ONNX model's graph inputs and outputs (names, element types, shapes,
 * symbolic dims included) straight from its protobuf bytes, without
 * onnxruntime and without assuming anything about the model.
 */
import { dataTypeName, decodeModel, type DecodedValueInfo, type Dim } from './onnx-encoder.js';

export type { Dim } from './onnx-encoder.js';

export interface TensorIO {
  name: string;
  /** 'tensor' for tensors; 'sequence' | 'map' | 'optional' | 'sparse_tensor' | 'unknown' otherwise. */
  kind: string;
  /** TensorProto.DataType number (1 = float32). */
  elemType: number;
  /** 'float32', 'int64', …; 'undefined' when not given. */
  dtype: string;
  /** Per-dim: a size, a symbolic name (dim_param), or null (unknown); null when the shape is not given. */
  shape: Dim[] | null;
}

export interface ModelIO {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  /** Real inputs: graph inputs that are not initializers (IR < 4 lists weights as inputs too). */
  inputs: TensorIO[];
  outputs: TensorIO[];
  initializerNames: string[];
  /** Initializers whose data lives in an external file (such a model cannot be copied alone). */
  externalInitializers: string[];
  nodeCount: number;
}

function toIO(v: DecodedValueInfo): TensorIO {
  return { name: v.name, kind: v.kind, elemType: v.elemType, dtype: dataTypeName(v.elemType), shape: v.shape };
}

/** Decode a serialized ONNX ModelProto's I/O. Throws ProtoDecodeError on malformed bytes. */
export function readModelIO(buffer: Uint8Array): ModelIO {
  const m = decodeModel(buffer);
  const initializerNames = m.graph.initializers.map((i) => i.name);
  const initSet = new Set(initializerNames);
  return {
    irVersion: m.irVersion,
    opsetImports: m.opsetImports,
    producerName: m.producerName,
    inputs: m.graph.inputs.filter((i) => !initSet.has(i.name)).map(toIO),
    outputs: m.graph.outputs.map(toIO),
    initializerNames,
    externalInitializers: m.graph.initializers.filter((i) => i.external).map((i) => i.name),
    nodeCount: m.graph.nodeCount,
  };
}

/** "input float32 [N,3,224,224]" — for messages and logs. */
export function describeTensorIO(t: TensorIO): string {
  const shape = t.shape === null ? '?' : `[${t.shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
  return `${t.name} ${t.kind === 'tensor' ? t.dtype : t.kind} ${shape}`;
}
