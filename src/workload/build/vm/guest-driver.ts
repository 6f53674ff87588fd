import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GUEST_DRIVER_DIR } from '../../contract.js';
import type { RuntimeFile } from '../rootfs/ort-files.js';
import { readModinfo } from './modinfo.js';

/**
 * The NVIDIA driver inside the GPU VM image (workload.gpu.guest_driver). A VM
 * with a GPU passed through drives it with its own kernel module, which must
 * be built for the guest's kernel (the Debian cloud kernel of the artifact),
 * and user-space libraries of the same driver version. The directory holds
 *
 *   modules/nvidia.ko, modules/nvidia-uvm.ko [, modules/nvidia-modeset.ko]   uncompressed, for the guest kernel
 *   lib/libcuda.so.1, lib/libnvidia-ml.so.1, lib/libnvidia-ptxjitcompiler.so.1 [, more libnvidia-*.so.*]
 *   bin/nvidia-smi
 *
 * This checks it (vermagic against the guest kernel release, module version
 * against versioned library names) and lists what the image carries, all
 * under GUEST_DRIVER_DIR; the GPU init (rootfs/gpu-init.ts) loads it at boot.
 */

export const GUEST_DRIVER_REQUIRED = {
  modules: ['nvidia.ko', 'nvidia-uvm.ko'],
  lib: ['libcuda.so.1', 'libnvidia-ml.so.1', 'libnvidia-ptxjitcompiler.so.1'],
  bin: ['nvidia-smi'],
} as const;

export interface GuestDriverCheck {
  dir: string | null;
  problems: string[];
  /** modinfo version of nvidia.ko (e.g. 570.124.06). */
  driverVersion: string | null;
  /** The kernel release nvidia.ko was built for (first word of its vermagic). */
  builtFor: string | null;
  files: RuntimeFile[];
}

/** How to make the directory, for the guest kernel `release`. */
export function guestDriverHowTo(release: string | null): string {
  const rel = release ?? '<release>';
  return (
    `build the NVIDIA kernel modules for the guest kernel ${release ?? '(<release>: the artifact\'s kernelVersion, `bench images ls`)'} (e.g. NVIDIA-Linux-x86_64-<version>.run --extract-only, then ` +
    `make -C kernel-open modules SYSSRC=/usr/src/linux-headers-${rel} with Debian's linux-headers-${rel}); put nvidia.ko and nvidia-uvm.ko in modules/, ` +
    "the same version's libcuda.so.1, libnvidia-ml.so.1 and libnvidia-ptxjitcompiler.so.1 (by soname) in lib/ and nvidia-smi in bin/, " +
    'and name the directory in workload.gpu.guest_driver'
  );
}

const list = (d: string) => {
  try {
    return readdirSync(d).sort();
  } catch {
    return [] as string[];
  }
};

/** Checks workload.gpu.guest_driver against the guest kernel (release null: not known yet, vermagic not compared). */
export async function checkGuestDriver(dir: string | undefined, release: string | null): Promise<GuestDriverCheck> {
  const out: GuestDriverCheck = { dir: dir ?? null, problems: [], driverVersion: null, builtFor: null, files: [] };
  if (!dir) {
    out.problems.push(`the GPU VM image needs the NVIDIA driver for its guest kernel and workload.gpu.guest_driver is not set: ${guestDriverHowTo(release)}`);
    return out;
  }
  if (!existsSync(dir)) {
    out.problems.push(`workload.gpu.guest_driver ${dir} does not exist: ${guestDriverHowTo(release)}`);
    return out;
  }
  for (const [sub, names] of Object.entries(GUEST_DRIVER_REQUIRED)) {
    for (const n of names) if (!existsSync(join(dir, sub, n))) out.problems.push(`${join(dir, sub, n)} is missing`);
  }
  const ko = join(dir, 'modules', 'nvidia.ko');
  if (existsSync(ko)) {
    try {
      const info = readModinfo(await readFile(ko));
      out.driverVersion = info.get('version')?.[0] ?? null;
      out.builtFor = info.get('vermagic')?.[0]?.split(/\s+/)[0] ?? null;
    } catch (err) {
      out.problems.push(`${ko} is not a kernel module this check can read (${(err as Error).message}); it must be uncompressed`);
    }
    if (release !== null && out.builtFor !== null && out.builtFor !== release) {
      out.problems.push(`${ko} is built for kernel ${out.builtFor}, the guest runs ${release}: rebuild it for ${release}`);
    }
  }
  const libs = list(join(dir, 'lib'));
  if (out.driverVersion) {
    for (const f of libs) {
      const v = /^lib(?:cuda|nvidia-[a-z-]+)\.so\.(\d+\.\d+(?:\.\d+)?)$/.exec(f)?.[1];
      if (v && v !== out.driverVersion) out.problems.push(`${join(dir, 'lib', f)} is driver ${v}, the kernel module is ${out.driverVersion}: user space and module must be the same version`);
    }
  }
  if (out.problems.length) out.problems.push(`how: ${guestDriverHowTo(release)}`);
  for (const f of list(join(dir, 'modules')).filter((n) => n.endsWith('.ko'))) out.files.push({ src: join(dir, 'modules', f), dest: `${GUEST_DRIVER_DIR}/modules/${f}` });
  for (const f of libs.filter((n) => /\.so(\.\d+)*$/.test(n))) out.files.push({ src: join(dir, 'lib', f), dest: `${GUEST_DRIVER_DIR}/lib/${f}` });
  for (const f of list(join(dir, 'bin'))) out.files.push({ src: join(dir, 'bin', f), dest: `${GUEST_DRIVER_DIR}/bin/${f}` });
  return out;
}
