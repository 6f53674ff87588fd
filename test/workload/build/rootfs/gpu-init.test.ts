import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernelCmdline } from '../../../../src/platforms/linux-guest/kernel-cmdline.js';
import { GUEST_BASE_INIT_PATH, gpuInitScript } from '../../../../src/workload/build/rootfs/gpu-init.js';
import { guestInitScript } from '../../../../src/workload/build/rootfs/guest-init.js';
import { rootfsTextFiles } from '../../../../src/workload/build/rootfs/rootfs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gpu-init-test-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcd test@host';

/** The wrapper over a fake root: busybox does the work, insmod/mknod/mount only print what they would do. */
async function runWrapper(cmdline: string, withDriver: boolean): Promise<string[]> {
  const root = await mkdtemp(join(dir, 'root-'));
  const D = join(root, 'opt/vmbench/nvidia-guest');
  await mkdir(join(D, 'modules'), { recursive: true });
  if (withDriver) for (const m of ['nvidia', 'nvidia-uvm']) await writeFile(join(D, 'modules', `${m}.ko`), '');
  await mkdir(join(root, 'proc/driver/nvidia/gpus/0000:01:00.0'), { recursive: true });
  await writeFile(join(root, 'proc/driver/nvidia/gpus/0000:01:00.0/information'), 'Model: \t\t NVIDIA H200\nDevice Minor: \t 0\n');
  await writeFile(join(root, 'proc/devices'), 'Character devices:\n  1 mem\n195 nvidia-frontend\n235 nvidia-uvm\n');
  await writeFile(join(root, 'proc/uptime'), '2.53 1.00\n');
  await writeFile(join(root, 'proc/cmdline'), `${cmdline}\n`);
  const bb = join(root, 'bb');
  await writeFile(bb, '#!/bin/sh\ncase "$1" in insmod|mknod|mount) echo "$@" ;; *) exec busybox "$@" ;; esac\n');
  await chmod(bb, 0o755);
  const script = gpuInitScript()
    .replace('BB=/bin/busybox', `BB=${bb}`)
    .replace('D=/opt/vmbench/nvidia-guest', `D=${D}`)
    .replaceAll('/proc/', `${root}/proc/`)
    .replaceAll(' > /dev/console', '')
    .replace(`exec ${GUEST_BASE_INIT_PATH}`, 'echo "env $VMBENCH_DEVICE|$VMBENCH_FALLBACK|$LD_LIBRARY_PATH"');
  await writeFile(join(root, 'init.sh'), script);
  return (await execa('busybox', ['sh', join(root, 'init.sh')])).stdout.split('\n').filter((l) => !l.startsWith('-t '));
}

describe('the GPU image init', () => {
  it('parses under busybox sh, and a GPU image has it in place of the CPU init (which moves beside it)', async () => {
    await writeFile(join(dir, 'w.sh'), gpuInitScript());
    expect((await execa('busybox', ['sh', '-n', join(dir, 'w.sh')], { reject: false })).exitCode).toBe(0);
    const cpu = rootfsTextFiles();
    const gpu = rootfsTextFiles(true);
    expect(cpu.find((f) => f.path === '/sbin/vmbench-init')!.text).toBe(guestInitScript());
    expect(cpu.some((f) => f.path === GUEST_BASE_INIT_PATH)).toBe(false);
    expect(gpu.find((f) => f.path === '/sbin/vmbench-init')!.text).toBe(gpuInitScript());
    expect(gpu.find((f) => f.path === GUEST_BASE_INIT_PATH)).toEqual({ path: GUEST_BASE_INIT_PATH, text: guestInitScript(), mode: 0o755 });
    expect(gpu.filter((f) => f.path !== '/sbin/vmbench-init' && f.path !== GUEST_BASE_INIT_PATH)).toEqual(cpu.filter((f) => f.path !== '/sbin/vmbench-init'));
  });

  it('device=gpu: loads the guest driver, makes its nodes as nvidia-modprobe does, passes the device on', async () => {
    const cmdline = buildKernelCmdline({ guestPort: 8080, threads: 2, modelName: 'm', authorizedKey: KEY, device: 'gpu', fallback: true });
    const out = await runWrapper(cmdline, true);
    expect(out.filter((l) => /^(insmod|mknod)/.test(l)).map((l) => l.replace(/\S*\/modules\//, '…/'))).toEqual([
      'insmod …/nvidia.ko',
      'insmod …/nvidia-uvm.ko',
      'mknod -m 666 /dev/nvidia0 c 195 0',
      'mknod -m 666 /dev/nvidiactl c 195 255',
      'mknod -m 666 /dev/nvidia-uvm c 235 0',
      'mknod -m 666 /dev/nvidia-uvm-tools c 235 1',
    ]);
    expect(out).toContain('VMBENCH_PHASE gpu_driver 2.53');
    expect(out.at(-1)).toBe('env gpu|cpu|/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64:/usr/local/nvidia/lib64:/opt/vmbench/nvidia-guest/lib');
  });

  it('without a guest driver in the image it says so and still passes device=gpu on (the server then fails or falls back)', async () => {
    const cmdline = buildKernelCmdline({ guestPort: 8080, threads: 2, modelName: 'm', authorizedKey: KEY, device: 'gpu' });
    const out = await runWrapper(cmdline, false);
    expect(out.some((l) => l.startsWith('insmod'))).toBe(false);
    expect(out).toContainEqual(expect.stringMatching(/^vmbench-gpu-init: this image has no guest NVIDIA driver/));
    expect(out.at(-1)).toMatch(/^env gpu\|\|/);
  });
});
