import type { SampleValue } from './measurement.js';
import { onceIf, type Measurement } from './measurement.js';

/**
 * image_size: what must exist on a host before an instance can start.
 * Docker: the image size as the engine reports it. QEMU: the qcow2 file's
 * actual size on disk + kernel + initramfs (Vagrant: the same, which its box
 * carries). Taken in every run: it needs no instance.
 */
export const imageSizeMeasurement: Measurement = {
  name: 'image_size',
  uses: 'none',
  rounds: () => onceIf(true),
  async run(ctx) {
    const { artifact, platform } = ctx;
    let v: SampleValue | null = null;
    if (platform.kind === 'docker' && artifact.docker.sizeBytes != null) {
      v = {
        metric: 'image_size', value: artifact.docker.sizeBytes / 2 ** 20, unit: 'MiB',
        metadata: { image: artifact.docker.image, bytes: artifact.docker.sizeBytes, source: 'engine image inspect Size' },
      };
    } else if (platform.kind === 'qemu' || platform.kind === 'vagrant') {
      const { diskBytes, kernelBytes, initrdBytes } = artifact.vm;
      const bytes = diskBytes + kernelBytes + initrdBytes;
      const source = platform.kind === 'qemu' ? 'qcow2 size on disk + kernel + initramfs' : 'box contents: the same qcow2 (box.img) + kernel + initramfs';
      v = { metric: 'image_size', value: bytes / 2 ** 20, unit: 'MiB', metadata: { bytes, disk_bytes: diskBytes, kernel_bytes: kernelBytes, initrd_bytes: initrdBytes, source } };
    }
    if (v) ctx.emit(v);
  },
};
