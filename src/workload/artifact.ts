import type { ImageLaunch, ImageSource } from './image-workload.js';

/**
 * A built workload artifact: one root filesystem, exposed as a Docker image and
 * as a bootable VM disk (+ kernel + initramfs). Written as manifest.json in the
 * artifact's cache directory by the image builder.
 */
export interface Artifact {
  /** Content hash (hex sha256) over every input of the build. */
  id: string;
  /** Hex sha256 over the rootfs tree; the same value is in GUEST_DIGEST_FILE inside it. */
  rootfsDigest: string;
  /** Directory holding this artifact's files. */
  dir: string;
  docker: { image: string; imageId?: string; sizeBytes?: number };
  vm: {
    disk: string; // base qcow2; instances use overlays on it
    kernel: string;
    initrd: string;
    kernelVersion: string;
    diskBytes: number; // qcow2 actual size on disk
    kernelBytes: number;
    initrdBytes: number;
  };
  model: { name: string; source: string; sha256: string; bytes: number };
  debianSuite: string;
  createdAt: string;
  /** The same disk, kernel and initramfs as a Vagrant box; present when the build was asked for one. */
  vagrant?: VagrantBox;
  /** Present when the rootfs is an OCI image's filesystem (bring your own server), absent for the built-in server. */
  image?: ImageArtifact;
  /** Present on the GPU artifact (workload.device: gpu): what it carries for ONNX Runtime's CUDA provider. */
  gpu?: GpuArtifactInfo;
}

/** What an image workload's artifact was made from, and how its server starts (see image-workload.ts). */
export interface ImageArtifact {
  source: ImageSource;
  /** sha256:<hex> of the image config. */
  imageId: string;
  launch: ImageLaunch;
  /** The launch user as resolved in the image (the VM's init runs the server as it). */
  user: { uid: number; gid: number; groups: number[]; home: string };
}

export interface GpuArtifactInfo {
  /** Sonames carried next to libonnxruntime.so.1 (the providers and the CUDA/cuDNN libraries they need). */
  providerLibraries: string[];
  /** Left to the NVIDIA driver of the machine that runs the instance (libcuda.so.1 …). */
  fromDriver: string[];
  /** The guest NVIDIA driver of the VM image, when carried. */
  guestDriver: { version: string | null; builtFor: string | null } | null;
  /** What is missing (fallback: cpu built it anyway; instances then run on CPU). */
  missing: string[];
}

/** A Vagrant box (provider libvirt) made from an artifact; vagrant-box.json beside the .box file. */
export interface VagrantBox {
  /** vmbench-box-<12 hex>: the name `vagrant box add --name` gets. */
  name: string;
  /** The .box file. */
  file: string;
  bytes: number;
  artifactId: string;
  /** virtual_size in metadata.json (GiB, rounded up). */
  virtualSizeGiB: number;
  createdAt: string;
  /** The guest kernel command line with %{threads} and %{authkey} to fill in (the top-level Vagrantfile reads it). */
  kernelCmdline: string;
  /** Ports inside the guest: the server's and sshd's. */
  guestPort: number;
  guestSshPort: number;
}
