import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchError } from '../../../src/errors.js';
import { ensureModel, generatedModelFileName } from '../../../src/workload/model/model-cache.js';
import { DataType, ProtoWriter, encodeModel } from '../../../src/workload/model/onnx-encoder.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmbench-model-cache-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectInputError(p: Promise<unknown>, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BenchError);
  expect((err as BenchError).kind).toBe('input');
  expect((err as BenchError).message).toMatch(message);
}

describe('ensureModel: generated', () => {
  it('generates resnet18 once, under models/<arch>-seed<seed>-<hash12>.onnx, then reuses it', async () => {
    const cache = join(dir, 'cache');
    const first = await ensureModel('resnet18', cache, { seed: 3 });
    expect(first.path).toBe(join(cache, 'models', generatedModelFileName('resnet18', 3)));
    expect(first.path).toMatch(/models\/resnet18-seed3-[0-9a-f]{12}\.onnx$/);
    expect(first.kind).toBe('generated');
    expect(first.name).toBe('resnet18');
    expect(first.source).toBe('generated:resnet18:seed=3:gen=1');
    const file = await readFile(first.path);
    expect(first.bytes).toBe(file.length);
    expect(first.sha256).toBe(createHash('sha256').update(file).digest('hex'));
    expect(first.io.inputs[0]?.shape).toEqual(['N', 3, 224, 224]);

    const mtime = (await stat(first.path)).mtimeMs;
    const second = await ensureModel('resnet18', cache, { seed: 3 });
    expect(second.sha256).toBe(first.sha256);
    expect((await stat(second.path)).mtimeMs).toBe(mtime); // not rewritten

    // A different seed is a different file.
    expect(generatedModelFileName('resnet18', 4)).not.toBe(generatedModelFileName('resnet18', 3));
  });

  it('regenerates a corrupted cache entry', async () => {
    const cache = join(dir, 'cache2');
    const good = await ensureModel('resnet18', cache);
    await writeFile(good.path, 'truncated');
    const again = await ensureModel('resnet18', cache);
    expect(again.sha256).toBe(good.sha256);
    expect((await stat(again.path)).size).toBe(good.bytes);
  });

  it('rejects a bad seed as an input error', async () => {
    await expectInputError(ensureModel('resnet18', dir, { seed: -2 }), /seed/);
  });
});

describe('ensureModel: user files', () => {
  it('accepts a valid .onnx file and reports its I/O without assuming', async () => {
    const path = join(dir, 'tiny.onnx');
    await writeFile(
      path,
      encodeModel({
        irVersion: 8,
        opsetImports: [{ domain: '', version: 17 }],
        graph: {
          name: 'g',
          nodes: [{ opType: 'Relu', inputs: ['features'], outputs: ['scores'] }],
          initializers: [],
          inputs: [{ name: 'features', elemType: DataType.FLOAT, shape: ['batch', 16] }],
          outputs: [{ name: 'scores', elemType: DataType.FLOAT, shape: ['batch', 16] }],
        },
      }),
    );
    const m = await ensureModel(path, join(dir, 'unused'));
    expect(m.kind).toBe('file');
    expect(m.name).toBe('tiny');
    expect(m.path).toBe(path);
    expect(m.source).toBe(path);
    expect(m.io.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([['features', 'float32', ['batch', 16]]]);
    expect(m.io.outputs.map((o) => o.name)).toEqual(['scores']);
  });

  it('rejects a missing file', async () => {
    await expectInputError(ensureModel(join(dir, 'nope.onnx'), dir), /not found/);
  });

  it('rejects a directory', async () => {
    await expectInputError(ensureModel(dir, dir), /not a regular file/);
  });

  it('rejects bytes that are not ONNX', async () => {
    const path = join(dir, 'junk.onnx');
    await writeFile(path, 'definitely not a protobuf model\n');
    await expectInputError(ensureModel(path, dir), /not a valid ONNX model/);
  });

  it('rejects a model without inputs or outputs', async () => {
    const path = join(dir, 'empty-graph.onnx');
    const graph = new ProtoWriter().stringField(2, 'g');
    await writeFile(path, new ProtoWriter().intField(1, 7).messageField(7, graph).finish());
    await expectInputError(ensureModel(path, dir), /no graph inputs/);
  });

  it('rejects a model with external tensor data', async () => {
    // TensorProto with data_location = EXTERNAL (14 = 1)
    const tensor = new ProtoWriter().intField(1, 4).intField(2, 1).stringField(8, 'w').intField(14, 1);
    const vi = (name: string) =>
      new ProtoWriter()
        .stringField(1, name)
        .messageField(2, new ProtoWriter().messageField(1, new ProtoWriter().intField(1, 1)));
    const graph = new ProtoWriter().stringField(2, 'g').messageField(5, tensor).messageField(11, vi('x')).messageField(12, vi('y'));
    const path = join(dir, 'external.onnx');
    await writeFile(path, new ProtoWriter().intField(1, 7).messageField(7, graph).finish());
    await expectInputError(ensureModel(path, dir), /external data/);
  });
});
