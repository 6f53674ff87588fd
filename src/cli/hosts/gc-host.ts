import { RUN_LABEL } from '../../platforms/docker/create-options.js';
import { removeLabelled, removeLabelledImages } from '../../platforms/docker/engine.js';
import { remoteDockerClient } from '../../platforms/remote/docker-remote.js';
import { cleanupRemoteAll } from '../../platforms/remote/qemu/remote-gc.js';
import type { RemoteHost } from '../../platforms/remote/remote-host.js';

/**
 * `bench gc --host NAME [--run ID]`: what runs left on a remote host — its
 * Docker Engine's vmbench containers and snapshot images, the SSH user's
 * vmbench QEMU processes, and the instance directories under its work_dir —
 * all of them, or one run's. (The processes a run starts there are tied to
 * its SSH connection and die with it; this is for everything else.)
 */
export async function gcHost(host: RemoteHost, runId: string | null): Promise<string> {
  const label = runId === null ? RUN_LABEL : `${RUN_LABEL}=${runId}`;
  const docker = remoteDockerClient(host);
  const hasDocker = await docker.ping().then(() => true, () => false);
  const containers = hasDocker ? await removeLabelled(docker, label) : 0;
  const images = hasDocker ? await removeLabelledImages(docker, label) : 0;
  const vms = await cleanupRemoteAll(host, runId);
  const left = vms.left.length ? `; ${vms.left.length} qemu process(es) would not die: ${vms.left.join(', ')}` : '';
  return (
    `${host.name}: removed ${hasDocker ? `${containers} container(s), ${images} snapshot image(s)` : 'nothing from Docker (no engine answers there)'}; ` +
    `${vms.killed.length} qemu process(es) killed, ${vms.removedDirs.length} scratch dir(s) removed${runId ? ` (run ${runId})` : ''}${left}`
  );
}
