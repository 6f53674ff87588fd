import type Dockerode from 'dockerode';
import { GPU_LD_LIBRARY_PATH, GUEST_NVIDIA_LIB_DIR, SERVER_ENV } from '../../workload/contract.js';
import type { NvidiaDriverFiles } from '../host/nvidia-driver-files.js';

/**
 * How a container reaches the host's GPUs, and the create-container options
 * that does it (pure; chosen once per run by the platform's prepare):
 *
 *  - device-requests: the NVIDIA container toolkit's runtime hook is
 *    installed, so the engine's own GPU support works: HostConfig.DeviceRequests
 *    exactly as `docker run --gpus all` (or `--gpus '"device=0,GPU-…"'`) sends it.
 *  - cdi: the engine resolves CDI devices (Docker 25+ with CDI spec dirs) and an
 *    nvidia.com/gpu spec exists: DeviceRequests with driver "cdi".
 *  - explicit: neither; vmbench passes the device nodes (/dev/nvidia<minor>,
 *    nvidiactl, nvidia-uvm, nvidia-uvm-tools) and bind-mounts the host's driver
 *    libraries read-only into /usr/local/nvidia/lib64 itself — reported as such,
 *    because it is vmbench's doing, not the toolkit's (no ldconfig, no hooks, no
 *    per-GPU isolation beyond the device nodes).
 *  - none: no way in (no driver, no nodes): why.
 */

export type DockerGpuSelection = 'all' | string[];

export type DockerGpuAccess =
  | { mode: 'device-requests'; via: string }
  | { mode: 'cdi'; via: string }
  | {
      mode: 'explicit';
      via: string;
      devices: string[];
      libraries: Array<{ hostPath: string; containerPath: string }>;
      /** UUIDs of the selected GPUs (CUDA_VISIBLE_DEVICES), null for all. */
      visible: string[] | null;
    }
  | { mode: 'none'; reason: string };

export interface DockerGpuHost {
  /** Path of nvidia-container-runtime-hook, which the engine's built-in NVIDIA device driver runs; null when absent. */
  runtimeHook: string | null;
  /** Runtimes registered with the engine (an "nvidia" one means the toolkit is installed). */
  runtimes: string[];
  /** docker info CDISpecDirs (Docker 25+), null when the engine does not report any. */
  cdiSpecDirs: string[] | null;
  /** CDI spec files that define nvidia.com/gpu devices. */
  cdiNvidiaSpecs: string[];
  driver: NvidiaDriverFiles;
  /** Index and UUID of each GPU nvidia-smi lists, to map a selection onto device nodes. */
  gpus: Array<{ index: number; uuid: string; pciAddress: string }>;
}

/** The engine's GPU capabilities: gpu selects the NVIDIA driver, compute,utility become NVIDIA_DRIVER_CAPABILITIES. */
export const GPU_CAPABILITIES = ['gpu', 'compute', 'utility'];

export function chooseDockerGpuAccess(h: DockerGpuHost, selection: DockerGpuSelection): DockerGpuAccess {
  if (h.runtimeHook) return { mode: 'device-requests', via: `the engine's NVIDIA device driver (${h.runtimeHook})` };
  if (h.cdiSpecDirs && h.cdiSpecDirs.length && h.cdiNvidiaSpecs.length) return { mode: 'cdi', via: `CDI (${h.cdiNvidiaSpecs.join(', ')})` };
  const missing: string[] = [];
  const wanted = selection === 'all' ? h.driver.gpuNodes : h.driver.gpuNodes.filter((n) => selection.some((id) => matchesGpu(id, n, h.gpus)));
  if (selection !== 'all') {
    for (const id of selection) if (!h.driver.gpuNodes.some((n) => matchesGpu(id, n, h.gpus))) missing.push(`GPU "${id}" (not an index or UUID nvidia-smi lists)`);
  }
  if (!wanted.length && !missing.length) missing.push('a /dev/nvidia<N> device node (there is none: is the NVIDIA kernel driver loaded?)');
  for (const n of wanted) if (!n.present) missing.push(n.node);
  for (const c of h.driver.controlNodes) if (!c.present) missing.push(c.node);
  for (const l of h.driver.missingLibraries) missing.push(`${l} (the NVIDIA driver's user-space library)`);
  if (missing.length) {
    return { mode: 'none', reason: `${noToolkit(h)}, and passing the GPU explicitly needs ${missing.join(', ')}` };
  }
  return {
    mode: 'explicit',
    via: `explicit device nodes and driver libraries (${noToolkit(h)})`,
    devices: [...wanted.map((n) => n.node), ...h.driver.controlNodes.map((c) => c.node)],
    libraries: h.driver.libraries.map((l) => ({ hostPath: l.hostPath, containerPath: `${GUEST_NVIDIA_LIB_DIR}/${l.soname}` })),
    visible: selection === 'all' ? null : wanted.map((n) => n.uuid ?? h.gpus.find((g) => g.pciAddress === n.pciAddress)?.uuid ?? String(n.minor)),
  };
}

function noToolkit(h: DockerGpuHost): string {
  return h.runtimes.includes('nvidia')
    ? 'the "nvidia" runtime is registered but nvidia-container-runtime-hook is not on PATH'
    : 'no NVIDIA container toolkit (nvidia-container-runtime-hook) and no CDI spec';
}

function matchesGpu(id: string, node: NvidiaDriverFiles['gpuNodes'][number], gpus: DockerGpuHost['gpus']): boolean {
  if (node.uuid !== null && node.uuid === id) return true;
  const g = gpus.find((x) => x.pciAddress === node.pciAddress);
  return g !== undefined && (String(g.index) === id || g.uuid === id);
}

/** Docker's HostConfig.DeviceRequests for a selection, as the docker CLI's --gpus builds them. */
export function deviceRequests(access: DockerGpuAccess, selection: DockerGpuSelection): Dockerode.DeviceRequest[] {
  if (access.mode === 'cdi') {
    const ids = selection === 'all' ? ['nvidia.com/gpu=all'] : selection.map((id) => `nvidia.com/gpu=${id}`);
    return [{ Driver: 'cdi', Count: 0, DeviceIDs: ids, Capabilities: [], Options: {} }];
  }
  return selection === 'all'
    ? [{ Driver: '', Count: -1, DeviceIDs: [], Capabilities: [GPU_CAPABILITIES], Options: {} }]
    : [{ Driver: '', Count: 0, DeviceIDs: [...selection], Capabilities: [GPU_CAPABILITIES], Options: {} }];
}

export interface ContainerGpu {
  access: DockerGpuAccess;
  selection: DockerGpuSelection;
  /** The server falls back to CPU when the GPU session cannot be created. */
  fallback: boolean;
}

/** The server's environment for GPU inference (device, fallback, where the CUDA libraries are). */
export function gpuServerEnv(fallback: boolean): string[] {
  return [`${SERVER_ENV.device}=gpu`, ...(fallback ? [`${SERVER_ENV.fallback}=cpu`] : []), `LD_LIBRARY_PATH=${GPU_LD_LIBRARY_PATH}`, 'NVIDIA_DRIVER_CAPABILITIES=compute,utility'];
}

/**
 * Adds GPU access to a create-container body (in place; returns it). Without
 * a GPU config the body is untouched; with access 'none' (fallback: cpu) the
 * container gets no device but the server is still asked for the GPU, so it
 * falls back and says so.
 */
export function withGpu(options: Dockerode.ContainerCreateOptions, gpu: ContainerGpu | undefined): Dockerode.ContainerCreateOptions {
  if (!gpu) return options;
  options.Env = [...(options.Env ?? []), ...gpuServerEnv(gpu.fallback)];
  const hc = (options.HostConfig ??= {});
  const { access } = gpu;
  if (access.mode === 'device-requests' || access.mode === 'cdi') {
    hc.DeviceRequests = deviceRequests(access, gpu.selection);
  } else if (access.mode === 'explicit') {
    hc.Devices = [...(hc.Devices ?? []), ...access.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' }))];
    hc.Binds = [...(hc.Binds ?? []), ...access.libraries.map((l) => `${l.hostPath}:${l.containerPath}:ro`)];
    // Without the toolkit nothing hides the other GPUs from CUDA's enumeration: name the selected ones.
    if (access.visible) options.Env.push(`CUDA_VISIBLE_DEVICES=${access.visible.join(',')}`);
  }
  options.Labels = { ...(options.Labels ?? {}), 'vmbench.gpu': access.mode };
  return options;
}
