import type Dockerode from 'dockerode';
import { BenchError, messageOf } from '../../errors.js';
import { demuxDockerLogs } from './log-phases.js';

/**
 * Runs `sh -c <command>` inside a running container through the Engine API
 * (`shell`: another sh, e.g. an image workload's bundled busybox; or a whole
 * argv); stdout and stderr demultiplexed.
 */
export async function execInContainer(
  docker: Dockerode,
  containerId: string,
  command: string | readonly string[],
  timeoutMs = 30_000,
  shell = 'sh',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const container = docker.getContainer(containerId);
  const cmd = typeof command === 'string' ? [shell, '-c', command] : [...command];
  try {
    const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.destroy();
        reject(new BenchError('infrastructure', `docker exec in ${containerId.slice(0, 12)} timed out after ${timeoutMs} ms: ${cmd.join(' ').slice(0, 80)}`));
      }, timeoutMs);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (clearTimeout(timer), resolve()));
      stream.on('error', (err) => (clearTimeout(timer), reject(err)));
    });
    const { stdout, stderr } = demuxDockerLogs(Buffer.concat(chunks));
    const inspected = await exec.inspect();
    return { code: inspected.ExitCode ?? null, stdout, stderr };
  } catch (err) {
    if (err instanceof BenchError) throw err;
    throw new BenchError('infrastructure', `docker exec in ${containerId.slice(0, 12)} failed: ${messageOf(err)}`, { cause: err });
  }
}
