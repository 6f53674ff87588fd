/**
 * The `workload:` block: either vmbench's built-in server with a model
 * (`model:`), or your own server's OCI image (`image:`) with how to start it
 * and how to talk to it. Both run identically on every platform.
 */
import { z } from 'zod';
import { fallbackSchema, workloadGpuSchema } from './gpu.js';
import { describeValue } from './units.js';

export const BUILTIN_MODELS = ['resnet18', 'resnet50'] as const;
export type BuiltinModel = (typeof BUILTIN_MODELS)[number];

export function isBuiltinModel(model: string): model is BuiltinModel {
  return (BUILTIN_MODELS as readonly string[]).includes(model);
}

function count(min: number, max?: number) {
  const schema = z.number().int().min(min);
  return max === undefined ? schema : schema.max(max);
}

const MODEL_EXPECTED = `expected ${BUILTIN_MODELS.map((m) => `"${m}"`).join(', ')} or a path to an .onnx file`;
const modelProblem = (iss: { input?: unknown }) => `${MODEL_EXPECTED}, got ${describeValue(iss.input)}`;
const modelSchema = z
  .union([z.enum(BUILTIN_MODELS), z.string().regex(/\.onnx$/, { error: modelProblem })], { error: modelProblem })
  .meta({
    description: `The built-in server's model: ${BUILTIN_MODELS.join(', ')}, or the path to an .onnx file relative to the scenario file's directory. Give this or image.`,
  });

const urlPath = (what: string) =>
  z
    .string({ error: (iss) => `expected an HTTP path starting with "/", got ${describeValue(iss.input)}` })
    .regex(/^\/[\x21-\x7e]*$/, { error: (iss) => `expected an HTTP path starting with "/" (no spaces), got ${describeValue(iss.input)}` })
    .meta({ description: what });

const NAME_RE = /^[A-Za-z0-9._-]+$/;

export const requestSchema = z
  .strictObject({
    path: urlPath('Path of the inference request (default for protocol v2: /v2/models/{model_name}/infer).').optional(),
    method: z.enum(['POST', 'GET']).optional().meta({ description: 'HTTP method (default POST).' }),
    body: z.string().min(1).optional().meta({
      description: 'File holding the request body, relative to the scenario file. Without it a v2 model gets a request generated from its metadata (GET /v2/models/{model_name}).',
    }),
    content_type: z.string().min(1).optional().meta({ description: 'Content-Type of the body (default application/json).' }),
  })
  .meta({ description: 'The one inference request every measurement sends.' });

/** Keys that only an image workload takes. */
export const IMAGE_ONLY_KEYS = ['command', 'entrypoint', 'env', 'port', 'user', 'workdir', 'protocol', 'model_name', 'readiness', 'live', 'request'] as const;

export const workloadSchema = z
  .strictObject({
    model: modelSchema.optional(),
    image: z.string().min(1).optional().meta({
      description:
        'Your own server: an image in the local Docker Engine (e.g. "myorg/server:1"), a `docker save` archive, or an OCI image layout directory (paths relative to the scenario file). It runs as a container and boots as a VM from the same flattened filesystem. Give this or model.',
    }),
    batch: count(1, 256).default(1).meta({ description: 'Inputs per inference request (the first dimension of a generated v2 request).' }),
    threads: count(1, 256).default(1).meta({ description: 'ONNX Runtime intra-op threads in the built-in server (an image sets its own, e.g. through env).' }),
    device: z.enum(['cpu', 'gpu']).default('cpu').meta({ description: "Where inference runs: cpu, or gpu (the built-in server: ONNX Runtime's CUDA execution provider; see workload.gpu, platforms[].gpus/vfio/pci)." }),
    fallback: fallbackSchema,
    gpu: workloadGpuSchema,
    seed: count(0).default(0).meta({ description: 'Seed for the generated model weights and inputs.' }),
    command: z.array(z.string().min(1)).min(1).optional().meta({ description: "Image: replaces the image's CMD (as arguments after `docker run IMAGE`)." }),
    entrypoint: z.array(z.string().min(1)).optional().meta({ description: "Image: replaces the image's ENTRYPOINT and clears its CMD (as `docker run --entrypoint`)." }),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: (iss) => `expected an environment variable name, got ${describeValue(iss.input)}` }),
        z.union([z.string(), z.number(), z.boolean()], { error: (iss) => `expected a string, number or boolean, got ${describeValue(iss.input)}` }).transform(String),
      )
      .optional()
      .meta({ description: "Image: environment variables added to the image's (same name: replaced)." }),
    port: count(1, 65535).optional().meta({ description: "Image: the TCP port its server listens on inside (default: the image's one EXPOSEd port)." }),
    user: z
      .string()
      .regex(/^[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?$/, { error: (iss) => `expected a user as Docker takes it ("name", "uid", "name:group", "uid:gid"), got ${describeValue(iss.input)}` })
      .optional()
      .meta({ description: "Image: the user its server runs as (default: the image's USER)." }),
    workdir: z.string().regex(/^\//, { error: (iss) => `expected an absolute path, got ${describeValue(iss.input)}` }).optional().meta({ description: "Image: the working directory (default: the image's WORKDIR)." }),
    protocol: z.enum(['v2', 'none']).optional().meta({
      description:
        'Image: v2 (default) — the server speaks the Open Inference Protocol (KServe v2) REST API and every run checks it first; none — any HTTP server, measured with the readiness path and request given here, and the run records that it was not checked.',
    }),
    model_name: z.string().regex(NAME_RE, { error: (iss) => `expected a model name (letters, digits, ".", "_", "-"), got ${describeValue(iss.input)}` }).optional().meta({
      description: 'Image, protocol v2: the model name in /v2/models/{model_name}.',
    }),
    readiness: urlPath('Image: GET path that answers 200 once the server can infer (default for v2: /v2/health/ready).').optional(),
    live: urlPath('Image: GET path with no inference, for the network round trip (default: /v2/health/live for v2, else the readiness path).').optional(),
    request: requestSchema.optional(),
  })
  .superRefine((w, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message, input: w });
    if (w.model === undefined && w.image === undefined) {
      issue([], 'missing required key "model" or "image": the built-in server with a model (resnet18, resnet50, an .onnx file), or your own server\'s image');
    }
    if (w.model !== undefined && w.image !== undefined) issue(['image'], 'expected either model (the built-in server) or image (your own server), not both');
    if (w.image !== undefined && w.device === 'gpu') issue(['device'], 'device: gpu applies to the built-in server only (an image workload is measured on CPU; its own GPU setup is not taken over yet)');
    if (w.image === undefined) {
      for (const k of IMAGE_ONLY_KEYS) if (w[k] !== undefined) issue([k], `"${k}" applies to an image workload (workload.image) only`);
      return;
    }
    const protocol = w.protocol ?? 'v2';
    if (protocol === 'v2' && w.model_name === undefined) {
      issue(['model_name'], 'missing required key "model_name": a v2 server is asked about its model at /v2/models/{model_name}');
    }
    if (protocol === 'none') {
      if (w.readiness === undefined) issue(['readiness'], 'missing required key "readiness": a server that is not checked as v2 needs the path that says it is ready');
      if (w.request?.body === undefined) issue(['request', 'body'], 'missing required key "body": a server that is not v2 cannot have its request generated; give a file with the request body');
      if (w.request?.path === undefined) issue(['request', 'path'], 'missing required key "path": where the inference request goes');
    }
  })
  .meta({ description: 'The model-serving workload, identical on every platform: the built-in server (model) or your own image (image).' });

export type WorkloadConfig = z.output<typeof workloadSchema>;
