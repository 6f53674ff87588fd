import type Dockerode from 'dockerode';
import { failureCategoryOf, messageOf } from '../../errors.js';
import type { PostMortem } from '../platform.js';

/**
 * What became of a container after a failed step, from the Engine's own
 * record (docker inspect): OOM-killed, exited (with its code and the end of
 * its log), removed behind the harness's back, or the engine itself gone.
 */
export async function containerPostMortem(docker: Dockerode, containerId: string): Promise<PostMortem | null> {
  let state: Dockerode.ContainerInspectInfo['State'];
  try {
    state = (await docker.getContainer(containerId).inspect()).State;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return { category: 'instance_died', detail: `container ${containerId} no longer exists` };
    if (failureCategoryOf(err) === 'engine_unavailable') return { category: 'engine_unavailable', detail: messageOf(err) };
    return null;
  }
  if (state.OOMKilled) return { category: 'oom_killed', detail: `container ${containerId} was OOM-killed (exit code ${state.ExitCode})` };
  if (state.Running && !state.Restarting) return null;
  const error = state.Error ? `: ${state.Error}` : '';
  const said = await lastLogLines(docker, containerId);
  const category = /EADDRINUSE|address already in use/i.test(said) ? 'port_conflict' : 'instance_died';
  return { category, detail: `container ${containerId} ${state.Status} with exit code ${state.ExitCode}${error}${said ? `; its last words: ${said}` : ''}` };
}

/** The end of a dead container's log (the server says why it gave up, e.g. EADDRINUSE). */
async function lastLogLines(docker: Dockerode, containerId: string): Promise<string> {
  try {
    const buf = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: 5, follow: false })) as unknown as Buffer;
    // Without a TTY each frame has an 8-byte header; keep the printable text.
    return buf.toString('utf8').replace(/[\x00-\x08\x0e-\x1f]/g, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' | ').slice(-400);
  } catch {
    return '';
  }
}

/** Whether the engine still answers a ping within a few seconds, now and a moment later. */
export async function engineHealth(docker: Dockerode, settleMs = 1_000): Promise<PostMortem | null> {
  const ping = async (): Promise<PostMortem | null> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        docker.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer to a ping within 5 s')), 5_000))),
      ]);
      return null;
    } catch (err) {
      return { category: 'engine_unavailable', detail: `the Docker Engine does not answer: ${messageOf(err)}` };
    } finally {
      clearTimeout(timer);
    }
  };
  // An engine that is shutting down still answers pings for a moment while it fails every call with a
  // 500: asked again a second later (a step has failed already: the second costs little), it is gone.
  return (await ping()) ?? (settleMs > 0 ? (await new Promise((r) => setTimeout(r, settleMs)), await ping()) : null);
}
