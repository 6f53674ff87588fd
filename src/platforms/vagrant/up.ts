import { execa } from 'execa';

/**
 * `vagrant up` of one instance's project, with the two lifecycle points
 * Vagrant's own output gives: created = "Starting domain." (domain defined,
 * volume created), started = "Waiting for domain to get an IP address"
 * (libvirt started QEMU). Shared by the local and the remote-libvirt
 * platform: which libvirt it talks to is in the project's Vagrantfile.
 */
export interface VagrantUpResult {
  exitCode: number | undefined;
  timedOut: boolean;
  output: string;
  ms: number;
}

export async function vagrantUp(
  envDir: string,
  env: Record<string, string>,
  timeoutMs: number,
  mark: { created(): void; started(): void },
): Promise<VagrantUpResult> {
  let output = '';
  let created = false;
  let started = false;
  const t0 = performance.now();
  const child = execa('vagrant', ['up', '--provider', 'libvirt', '--no-provision'], {
    cwd: envDir,
    env,
    reject: false,
    all: true,
    buffer: true,
    stdin: 'ignore',
    timeout: timeoutMs,
    cleanup: true,
  });
  child.all?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
    if (!created && /Starting domain\./.test(output)) {
      created = true;
      mark.created();
    }
    if (!started && /Waiting for domain to get an IP address/.test(output)) {
      if (!created) {
        created = true;
        mark.created();
      }
      started = true;
      mark.started();
    }
  });
  const res = await child;
  return { exitCode: res.exitCode, timedOut: !!res.timedOut, output, ms: performance.now() - t0 };
}
