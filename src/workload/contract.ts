/**
 * The contract between the harness and the workload server that runs inside
 * every substrate. The server (src/workload/server/*.mjs) is plain JavaScript
 * copied verbatim into the root filesystem; it is configured only through the
 * environment variables below, identically in a container and in a VM (the VM's
 * init reads them from the kernel command line, see src/workload/build/).
 */
export const GUEST_NODE = '/usr/local/bin/node';
export const GUEST_APP_DIR = '/app';
export const GUEST_SERVER = '/app/server.mjs';
export const GUEST_MODEL = '/app/model.onnx';
/** Written at build time; contains the hex sha256 of the rootfs tree (excluding this file). */
export const GUEST_DIGEST_FILE = '/etc/vmbench/rootfs.sha256';

export const SERVER_ENV = {
  host: 'VMBENCH_HOST', // address to bind; 127.0.0.1 in containers (host net), 0.0.0.0 inside a VM's private user-net
  port: 'VMBENCH_PORT',
  threads: 'VMBENCH_THREADS', // ORT intra-op threads
  model: 'VMBENCH_MODEL', // path to .onnx; default GUEST_MODEL
  modelName: 'VMBENCH_MODEL_NAME', // name used in /v2/models/{name}; default 'model'
  maxBodyBytes: 'VMBENCH_MAX_BODY_BYTES',
  uid: 'VMBENCH_UID', // when started as root (a VM's init), the server drops to this uid/gid before serving
  gid: 'VMBENCH_GID',
  device: 'VMBENCH_DEVICE', // cpu (default) | gpu: ONNX Runtime's CUDA execution provider
  fallback: 'VMBENCH_FALLBACK', // cpu: when the GPU session cannot be created, run on CPU (and say so); default: fail
} as const;

/** The unprivileged account the workload runs as, in a container and in a guest (in the rootfs's /etc/passwd). */
export const WORKLOAD_USER = { name: 'vmbench', uid: 10001, gid: 10001 } as const;

/**
 * GPU inference inside an instance (see src/workload/gpu-libraries.ts): ONNX
 * Runtime loads its CUDA provider (libonnxruntime_providers_cuda.so, _shared.so)
 * from the directory of libonnxruntime.so.1, so the GPU artifact puts them
 * there together with the CUDA and cuDNN libraries they need. The NVIDIA
 * driver's own libraries come from the host: a container gets them from the
 * NVIDIA container toolkit, or bind-mounted into GUEST_NVIDIA_LIB_DIR when
 * vmbench passes them explicitly; a VM has the guest driver of its image in
 * GUEST_DRIVER_DIR.
 */
export const GUEST_ORT_LIB_DIR = '/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
export const GUEST_NVIDIA_LIB_DIR = '/usr/local/nvidia/lib64';
export const GUEST_NVIDIA_BIN_DIR = '/usr/local/nvidia/bin';
export const GUEST_DRIVER_DIR = '/opt/vmbench/nvidia-guest';
/** Where the server's process finds all of them (container: its Env; VM: the GPU init). */
export const GPU_LD_LIBRARY_PATH = [GUEST_ORT_LIB_DIR, GUEST_NVIDIA_LIB_DIR, `${GUEST_DRIVER_DIR}/lib`].join(':');

export const DEFAULT_MODEL_NAME = 'model';

/**
 * Port the server listens on inside an instance with a network of its own (a
 * VM's user-net, a bridged container); host-networked containers get a
 * distinct host port instead. The server's own default (server.mjs) is the same.
 */
export const SERVER_PORT_INSIDE = 8080;

/**
 * Readiness phases are logged on stdout (container) / the console (VM) as
 *   VMBENCH_PHASE <phase> <epoch-ms>   (see phase-lines.ts)
 */
export const PHASE_PREFIX = 'VMBENCH_PHASE';

export const ENDPOINTS = {
  live: '/v2/health/live',
  ready: '/v2/health/ready',
  model: (name: string) => `/v2/models/${encodeURIComponent(name)}`,
  infer: (name: string) => `/v2/models/${encodeURIComponent(name)}/infer`,
  /** Non-standard: what the server knows about itself (rootfs digest, node/ort versions, pid). */
  info: '/vmbench/info',
  /** Non-standard: what the server sees of its isolation (kernel, capabilities, seccomp, devices). */
  isolation: '/vmbench/isolation',
  /** Non-standard: µs per system call, timed in-process (?calls=N). */
  syscalls: '/vmbench/syscalls',
} as const;

/** Where inference runs in an instance, as its server reports it (GET /vmbench/info, header X-Device). */
export type InferenceDevice = 'cpu' | 'gpu';

export interface ServerInfo {
  rootfsDigest: string | null;
  /** What ran: absent from servers older than GPU support (they ran on CPU). */
  device?: InferenceDevice;
  /** What the instance was asked for (VMBENCH_DEVICE). */
  requestedDevice?: InferenceDevice;
  /** Why it runs on CPU although asked for the GPU (fallback: cpu), else null. */
  deviceReason?: string | null;
  /** GPU cold start on the server's clock (ms): CUDA context + provider, session (model upload), first inference. */
  gpuTimings?: { contextMs: number | null; sessionMs: number | null; firstInferenceMs: number | null } | null;
  node: string;
  onnxruntime: string;
  pid: number;
  model: { name: string; path: string; inputs: string[]; outputs: string[] };
  threads: number;
}
