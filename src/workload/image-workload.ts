/**
 * "Bring your own server": a workload that is an OCI image rather than
 * vmbench's built-in Node server. Its flattened filesystem, plus a few guest
 * bits under GUEST_BITS_DIR, becomes one rootfs that runs as a container and
 * boots as a VM (src/workload/build/image/); these are the facts both sides
 * share about how its server is started.
 */

/** Where an image comes from. */
export type ImageFormat = 'engine' | 'docker-archive' | 'oci-layout';

export interface ImageSource {
  format: ImageFormat;
  /** As the scenario wrote it: an engine reference, or the (resolved) archive / layout path. */
  ref: string;
}

/**
 * How the image's server is started, resolved from the image's config and
 * the scenario's overrides; identical in a container (the imported image's
 * config) and in a VM (the guest init runs exactly this).
 */
export interface ImageLaunch {
  entrypoint: string[];
  cmd: string[];
  /** KEY=value, in order; PATH always present. */
  env: string[];
  /** Absolute; '/' when the image sets none. */
  workingDir: string;
  /** As Docker takes it: '' (root), 'name', 'uid', 'name:group', 'uid:gid'. */
  user: string;
  /** TCP port the server listens on inside its instance. */
  port: number;
  /** Signal that stops the server (the image's StopSignal, else SIGTERM). */
  stopSignal: string;
}

/** Everything under this directory is the harness's, not the image's. */
export const GUEST_BITS_DIR = '/.vmbench';
/** The VM's PID 1 for an image workload (the initramfs switch_roots into it). */
export const IMAGE_INIT_PATH = `${GUEST_BITS_DIR}/init`;
/** Static busybox: the init's shell, root's login shell, the tools the harness runs inside. */
export const IMAGE_BUSYBOX = `${GUEST_BITS_DIR}/bin/busybox`;
export const IMAGE_SHELL = `${GUEST_BITS_DIR}/bin/sh`;
/** The guest init writes the server's pid here (the workload process for in-guest memory readings). */
export const SERVER_PIDFILE = '/run/vmbench-server.pid';
/** Docker's PATH for an image that sets none (the VM uses the same). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
