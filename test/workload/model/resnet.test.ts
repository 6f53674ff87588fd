import { createHash } from 'node:crypto';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModelIO } from '../../../src/workload/model/model-io.js';
import { ProtoReader, decodeModel } from '../../../src/workload/model/onnx-encoder.js';
import {
  GENERATOR_VERSION,
  TORCHVISION_PARAM_COUNTS,
  generateResnet,
  resnetParameterCount,
  resnetTensors,
  type ResnetArch,
} from '../../../src/workload/model/resnet.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Golden hashes for seed 0: the generator must be byte-identical on every machine.
 * If a deliberate change alters the bytes, bump GENERATOR_VERSION and update these.
 */
const GOLDEN: Record<ResnetArch, { version: number; sha256: string; bytes: number }> = {
  resnet18: { version: 1, sha256: '7731340c8e2ae91698ea51a74bbfcd8a5f0ca41a1642f743ac858bcedd975aa2', bytes: 46_810_671 },
  resnet50: { version: 1, sha256: '3aae233bc09ca6e65fb2041655fe9c1dc2e20d227e37dbc2c61b98a683a9598c', bytes: 102_477_159 },
};

/** torchvision's state_dict keys (minus num_batches_tracked), written out independently. */
function torchvisionKeys(arch: ResnetArch): string[] {
  const bottleneck = arch === 'resnet50';
  const layers = bottleneck ? [3, 4, 6, 3] : [2, 2, 2, 2];
  const expansion = bottleneck ? 4 : 1;
  const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var'].map((s) => `${p}.${s}`);
  const keys = ['conv1.weight', ...bn('bn1')];
  let inplanes = 64;
  layers.forEach((blocks, li) => {
    const planes = 64 * 2 ** li;
    for (let bi = 0; bi < blocks; bi++) {
      const p = `layer${li + 1}.${bi}`;
      const convs = bottleneck ? 3 : 2;
      for (let c = 1; c <= convs; c++) keys.push(`${p}.conv${c}.weight`, ...bn(`${p}.bn${c}`));
      const stride = li > 0 && bi === 0 ? 2 : 1;
      if (stride !== 1 || inplanes !== planes * expansion) keys.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
      inplanes = planes * expansion;
    }
  });
  return [...keys, 'fc.weight', 'fc.bias'];
}

/** Conv node name → strides, read from the serialized graph (test-only NodeProto walk). */
function convStrides(model: Uint8Array): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const r = new ProtoReader(model);
  while (!r.done) {
    const [f, w] = r.tag();
    if (f !== 7) {
      r.skip(w);
      continue;
    }
    const g = r.sub();
    while (!g.done) {
      const [gf, gw] = g.tag();
      if (gf !== 1) {
        g.skip(gw);
        continue;
      }
      const n = g.sub();
      let name = '';
      let op = '';
      let strides: number[] = [];
      while (!n.done) {
        const [nf, nw] = n.tag();
        if (nf === 3) name = n.string();
        else if (nf === 4) op = n.string();
        else if (nf === 5) {
          const a = n.sub();
          let an = '';
          const ints: number[] = [];
          while (!a.done) {
            const [af, aw] = a.tag();
            if (af === 1) an = a.string();
            else if (af === 8) ints.push(a.varint());
            else a.skip(aw);
          }
          if (an === 'strides') strides = ints;
        } else n.skip(nw);
      }
      if (op === 'Conv') out.set(name, strides);
    }
  }
  return out;
}

const models = new Map<ResnetArch, Buffer>();

beforeAll(() => {
  for (const arch of ['resnet18', 'resnet50'] as const) {
    const t0 = performance.now();
    const b = generateResnet({ arch, seed: 0 });
    console.log(`generateResnet(${arch}): ${(performance.now() - t0).toFixed(0)} ms, ${b.length} bytes, sha256 ${sha256(b)}`);
    models.set(arch, b);
  }
});

describe.each(['resnet18', 'resnet50'] as const)('%s', (arch) => {
  it('has torchvision’s exact trainable parameter count', () => {
    expect(resnetParameterCount(arch)).toBe(TORCHVISION_PARAM_COUNTS[arch]);
    // …and so do the tensors actually serialized in the file.
    const inits = decodeModel(models.get(arch)!).graph.initializers;
    const trainable = inits.filter((i) => !/\.running_(mean|var)$/.test(i.name));
    const count = trainable.reduce((a, i) => a + i.dims.reduce((x, d) => x * d, 1), 0);
    expect(count).toBe(arch === 'resnet18' ? 11_689_512 : 25_557_032);
    expect(inits.every((i) => i.dataType === 1 && !i.external)).toBe(true);
  });

  it('uses torchvision’s state_dict names, in order', () => {
    const names = decodeModel(models.get(arch)!).graph.initializers.map((i) => i.name);
    expect(names).toEqual(torchvisionKeys(arch));
    expect(resnetTensors(arch).map((t) => t.name)).toEqual(names);
  });

  it('declares input [N,3,224,224] and output [N,1000], float32, opset 13', () => {
    const io = readModelIO(models.get(arch)!);
    expect(io.inputs).toEqual([{ name: 'input', kind: 'tensor', elemType: 1, dtype: 'float32', shape: ['N', 3, 224, 224] }]);
    expect(io.outputs).toEqual([{ name: 'output', kind: 'tensor', elemType: 1, dtype: 'float32', shape: ['N', 1000] }]);
    expect(io.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(io.irVersion).toBe(7);
  });

  it('is byte-identical across generations and machines (golden sha256), and depends on the seed', () => {
    const again = generateResnet({ arch, seed: 0 });
    expect(sha256(again)).toBe(sha256(models.get(arch)!));
    expect(GENERATOR_VERSION).toBe(GOLDEN[arch].version);
    expect(again.length).toBe(GOLDEN[arch].bytes);
    expect(sha256(again)).toBe(GOLDEN[arch].sha256);
    expect(sha256(generateResnet({ arch, seed: 1 }))).not.toBe(GOLDEN[arch].sha256);
  });
});

it('puts the stride on the 3x3 conv of a bottleneck (ResNet v1.5)', () => {
  const strides = convStrides(models.get('resnet50')!);
  expect(strides.get('layer2.0.conv1')).toEqual([1, 1]);
  expect(strides.get('layer2.0.conv2')).toEqual([2, 2]);
  expect(strides.get('layer2.0.downsample.0')).toEqual([2, 2]);
  expect(strides.get('conv1')).toEqual([2, 2]);
  const r18 = convStrides(models.get('resnet18')!);
  expect(r18.get('layer3.0.conv1')).toEqual([2, 2]);
  expect(r18.get('layer3.0.conv2')).toEqual([1, 1]);
});

it('rejects bad seeds and archs', () => {
  expect(() => generateResnet({ arch: 'resnet18', seed: -1 })).toThrow(RangeError);
  expect(() => generateResnet({ arch: 'resnet18', seed: 1.5 })).toThrow(RangeError);
  expect(() => generateResnet({ arch: 'resnet34' as ResnetArch, seed: 0 })).toThrow(RangeError);
});

function pseudoImage(n: number, seed: number): Float32Array {
  const x = new Float32Array(n * 3 * 224 * 224);
  let s = seed;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) | 0;
    x[i] = ((s >>> 8) / 2 ** 24) * 4 - 2; // roughly a normalized image: [-2, 2)
  }
  return x;
}

function top5(row: Float32Array): { index: number; value: number }[] {
  return [...row]
    .map((value, index) => ({ index, value }))
    .sort((a, b) => b.value - a.value)
    .slice(0, 5);
}

describe.each(['resnet18', 'resnet50'] as const)('%s under onnxruntime-node', (arch) => {
  it('runs a batch of 2 to [2,1000] finite, non-degenerate logits', async () => {
    const session = await ort.InferenceSession.create(models.get(arch)!, { intraOpNumThreads: 2 });
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['output']);
      const x = pseudoImage(2, 7);
      const t0 = performance.now();
      const out = await session.run({ input: new ort.Tensor('float32', x, [2, 3, 224, 224]) });
      console.log(`${arch} batch-2 inference: ${(performance.now() - t0).toFixed(1)} ms`);
      const y = out.output!;
      expect(y.dims).toEqual([2, 1000]);
      const data = y.data as Float32Array;
      expect(data.every(Number.isFinite)).toBe(true);
      for (let b = 0; b < 2; b++) {
        const row = data.subarray(b * 1000, (b + 1) * 1000);
        const t = top5(row);
        // five distinct top values, and a real spread of logits
        expect(new Set(t.map((e) => e.value)).size).toBe(5);
        const max = Math.max(...row);
        const min = Math.min(...row);
        expect(max - min).toBeGreaterThan(1e-3);
        expect(Math.abs(max)).toBeLessThan(1e4);
      }
      // the two samples give different logits
      const r0 = data.subarray(0, 1000);
      const r1 = data.subarray(1000, 2000);
      expect(r0.some((v, i) => v !== r1[i])).toBe(true);
    } finally {
      await session.release();
    }
  });
});
