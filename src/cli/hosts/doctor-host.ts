import type Dockerode from 'dockerode';
import { messageOf } from '../../errors.js';
import { remoteDockerClient } from '../../platforms/remote/docker-remote.js';
import { resolveRemoteAccelerator } from '../../platforms/remote/qemu/remote-accel.js';
import type { RemoteHost } from '../../platforms/remote/remote-host.js';
import { remoteLibvirt } from '../../platforms/remote/vagrant/libvirt-uri.js';
import { vagrantPaths, virsh } from '../../platforms/vagrant/env.js';
import { listArtifacts } from '../../workload/build/artifact-store.js';
import type { CheckResult } from '../doctor/checks.js';

/**
 * `bench doctor --host NAME`: what a remote host can run, checked through
 * the same paths a run uses — the SSH connection (host key against
 * known_hosts), the helper, the Docker Engine over `docker system
 * dial-stdio`, QEMU and setpriv on the PATH, libvirt over qemu+ssh:// (for
 * kind: vagrant there), /dev/kvm and (with the probe) a real KVM boot of the
 * artifact's kernel there.
 */
export async function hostChecks(host: RemoteHost, o: { probe: boolean; cacheDir: string; localDocker: Dockerode }): Promise<CheckResult[]> {
  const section = `host ${host.name}`;
  const out: CheckResult[] = [];
  const add = (name: string, status: CheckResult['status'], detail: string, fix?: string) => out.push({ section, name, status, detail, ...(fix ? { fix } : {}) });
  let fp;
  try {
    fp = await host.fingerprint();
  } catch (err) {
    add('SSH', 'fail', `${host.url}: ${messageOf(err)}`, 'check the URL, the key (key:) and known_hosts (ssh-keyscan, after checking the fingerprint)');
    return out;
  }
  add('SSH', 'ok', `${host.url}, ${fp.hostKeyType} host key ${fp.hostKey} ${fp.hostKeyChecked ? 'matches known_hosts' : 'NOT checked (strict_host_key_checking: false)'}, connected in ${fp.sshConnectMs} ms`);
  add('helper', 'ok', `node ${fp.helperNode} on the host, round trip ${fp.controlRttMs.toFixed(2)} ms (kept out of every latency: polls and load run there)`);
  add('machine', 'info', `${fp.hostname}: ${fp.cores} × ${fp.cpuModel}, ${(fp.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${fp.os}, kernel ${fp.kernel}; work dir ${fp.workDir}`);
  const conn = await host.connection();
  try {
    const v = await remoteDockerClient(host).version();
    add('Docker Engine (ssh)', 'ok', `${v.Version} (API ${v.ApiVersion}) through docker system dial-stdio`);
  } catch (err) {
    add('Docker Engine (ssh)', 'warn', `not usable: ${messageOf(err).split('\n')[0]}`, `install Docker and the docker CLI there and add ${host.config.user} to the docker group`);
  }
  const tools = await conn.exec('command -v qemu-system-x86_64 && qemu-system-x86_64 --version | head -n 1; command -v qemu-img; command -v setpriv');
  const lines = tools.stdout.trim().split('\n');
  const qemu = lines.find((l) => l.includes('QEMU emulator'));
  if (qemu) add('QEMU', 'ok', qemu);
  else add('QEMU', 'warn', 'qemu-system-x86_64 not on the PATH', 'install qemu-system-x86 and qemu-utils there');
  if (lines.some((l) => l.endsWith('/setpriv'))) add('setpriv', 'ok', 'QEMU is tied to the SSH connection (--pdeathsig): it dies with it');
  else add('setpriv', 'warn', 'missing: a lost connection leaves QEMU running until `bench gc --host`', 'install util-linux there');
  await libvirtCheck(host, o.cacheDir, add);
  const kvm = await conn.exec('test -r /dev/kvm -a -w /dev/kvm');
  if (kvm.code !== 0) add('KVM', 'warn', `/dev/kvm missing or not read-write for ${host.config.user}: VMs would run under TCG`, `add ${host.config.user} to the kvm group there`);
  else if (!o.probe) add('KVM', 'info', '/dev/kvm is usable (not probed: --no-probe)');
  else {
    const latest = (await listArtifacts(o.cacheDir, o.localDocker).catch(() => [])).find((a) => a.diskExists);
    if (!latest || !qemu) add('KVM', 'info', '/dev/kvm is usable; no guest kernel built here to probe with', 'run `npx bench images build`, then `bench doctor --host` again');
    else {
      const kernel = (await host.ensureFile(latest.artifact.vm.kernel, 'vmlinuz')).path;
      const r = await resolveRemoteAccelerator(host, 'auto', { qemuSystem: 'qemu-system-x86_64', kernel, machine: 'microvm', hostKhz: null, cacheDir: o.cacheDir, log: () => undefined });
      if (r.accel === 'kvm') add('KVM boots a guest', 'ok', r.reason);
      else add('KVM boots a guest', 'warn', `no: ${r.reason}`, 'a host where KVM works (nested virtualization, kvm module) gives real VM numbers');
    }
  }
  return out;
}

/** libvirt over the host's qemu+ssh:// URI, as kind: vagrant there reaches it: the daemon answers, the pool runs. */
async function libvirtCheck(host: RemoteHost, cacheDir: string, add: (name: string, status: CheckResult['status'], detail: string, fix?: string) => void): Promise<void> {
  try {
    const lv = await remoteLibvirt(host.config, cacheDir);
    const paths = { ...vagrantPaths(cacheDir), uri: lv.uri, pool: host.config.libvirt.pool };
    const v = await virsh(paths, ['version', '--daemon'], 30_000);
    if (v.exitCode !== 0) {
      add('libvirt (qemu+ssh)', 'info', `not usable (kind: vagrant cannot run there): ${v.stderr.trim().split('\n').slice(-1)[0] ?? ''}`, `libvirtd there, ${host.config.user} allowed on its socket${host.config.libvirt.socket ? ', nc on the host (for libvirt.socket)' : ''}`);
      return;
    }
    const daemon = /daemon[^0-9]*([0-9.]+)/i.exec(v.stdout)?.[1] ?? '?';
    const pool = await virsh(paths, ['pool-info', paths.pool], 30_000);
    if (pool.exitCode === 0 && /State:\s+running/.test(pool.stdout)) add('libvirt (qemu+ssh)', 'ok', `libvirtd ${daemon} at ${lv.uri}, pool "${paths.pool}" running`);
    else add('libvirt (qemu+ssh)', 'warn', `libvirtd ${daemon} answers, but pool "${paths.pool}" is not running`, 'name a running pool with hosts.<name>.libvirt.pool (virsh pool-list there)');
  } catch (err) {
    add('libvirt (qemu+ssh)', 'info', `not checked: ${messageOf(err)}`);
  }
}
