import { execa } from 'execa';
import { BenchError } from '../../errors.js';
import { type VagrantPaths, vagrantGlobalExec, virsh } from './env.js';

/** What the vagrant and virsh command lines say, read back. */

/** The first line that names the problem (vagrant's explanations run long), then the last lines. */
export function vagrantError(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const key = lines.find((l) => /timed out|error|failed|no usable|could not|cannot|undefined method/i.test(l));
  const last = lines.slice(-4).join(' / ');
  return key && !last.includes(key) ? `${key} … ${last}` : last;
}

export function tail(text: string, n = 8): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .slice(-n)
    .join(' / ');
}

/** Vagrant's, vagrant-libvirt's and libvirtd's versions; unsupported when vagrant or the plugin is missing. */
export async function vagrantVersions(paths: VagrantPaths): Promise<{ vagrant: string; plugin: string; libvirtd: string }> {
  const g = vagrantGlobalExec(paths);
  const v = await execa('vagrant', ['--version'], { ...g, reject: false, timeout: 60_000 });
  const p = await execa('vagrant', ['plugin', 'list'], { ...g, reject: false, timeout: 60_000 });
  const d = await virsh(paths, ['version', '--daemon'], 10_000);
  const vagrant = /Vagrant\s+([0-9.]+)/.exec(String(v.stdout))?.[1] ?? 'unknown';
  const plugin = /vagrant-libvirt \(([^,)]+)/.exec(String(p.stdout))?.[1] ?? 'unknown';
  const libvirtd = /daemon[^0-9]*([0-9.]+)/i.exec(d.stdout)?.[1] ?? 'unknown';
  if (vagrant === 'unknown') throw new BenchError('unsupported', 'vagrant is not installed or does not run', { hint: 'run ./scripts/setup-vagrant.sh' });
  if (plugin === 'unknown') throw new BenchError('unsupported', 'the vagrant-libvirt plugin is not available', { hint: 'apt-get install vagrant-libvirt (./scripts/setup-vagrant.sh)' });
  return { vagrant, plugin, libvirtd };
}
