/**
 * The full remote-host check, by hand (too slow for `npm test`: the VM boots
 * under TCG here): a real OpenSSH server on 127.0.0.1 (a separate user, home
 * and host key: test/integration/remote/sshd-fixture.ts) registered as host
 * "box", and a docker + qemu scenario run there through the SSH paths —
 * Docker Engine over `docker system dial-stdio`, QEMU over an exec channel
 * with QMP and the console over the same connection. Prints each platform's
 * startup and memory, where polls and load ran, the host's fingerprint and
 * identity proof, and checks that nothing of the run is left (containers,
 * qemu, the host's run dir, processes of the SSH user). Exits 1 on a failed
 * check.
 *
 *   npm run build && node --import tsx bench/remote-vm.ts [--keep]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Dockerode from 'dockerode';
import { readSamples } from '../src/results/journal.js';
import type { RunRecord } from '../src/results/run-record.js';
import { startSshd } from '../test/integration/remote/sshd-fixture.js';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });
const root = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'vmbench-remote-vm-'));
const sshd = await startSshd();
let failed = 0;
const check = (ok: boolean, what: string) => {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failed += 1;
};

try {
  const file = join(tmp, 'remote-vm.yaml');
  writeFileSync(
    file,
    [
      'name: remote-vm',
      'workload: { model: resnet18, threads: 1 }',
      'hosts:',
      `  box: { url: "${sshd.url}", key: "${sshd.keyPath}", known_hosts: "${sshd.knownHostsPath}" }`,
      'platforms:',
      '  - { name: container, kind: docker, cpus: 1, memory: 1GiB, host: box }',
      '  - { name: vm, kind: qemu, cpus: 1, memory: 1GiB, accel: auto, boot_timeout: 400s, host: box }',
      'measurements:',
      '  startup: { repetitions: 1, warmup: 0, timeout: 400s }',
      '  memory: { settle: 1s }',
      'report: { formats: [json, markdown] }',
      '',
    ].join('\n'),
  );
  const t0 = Date.now();
  const r = spawnSync('node', [join(root, 'dist', 'cli', 'main.js'), 'run', file, '--results', join(tmp, 'results'), '-v'], { cwd: root, env: { ...process.env, CI: '1' }, encoding: 'utf8' });
  const wallS = (Date.now() - t0) / 1000;
  const runId = /run (\d{8}-\d{6}-[a-z0-9_-]+-[0-9a-f]{4}) →/.exec(r.stderr)?.[1];
  process.stdout.write(`bench run exited ${r.status} after ${wallS.toFixed(1)} s (run ${runId ?? '?'})\n`);
  if (r.status !== 0) process.stdout.write(r.stderr.slice(-4000));
  check(r.status === 0 && runId !== undefined, 'the run completed without failed steps');
  if (runId) {
    const dir = join(tmp, 'results', runId);
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunRecord;
    const box = record.environment.hosts?.box ?? {};
    process.stdout.write(`host box: ${box.hostname}, ${box.cores} × ${box.cpuModel}, kernel ${box.kernel}, ${box.hostKeyType} ${box.hostKey} (checked: ${box.hostKeyChecked}), control RTT ${box.controlRttMs} ms\n`);
    for (const [name, p] of Object.entries(record.environment.platforms)) process.stdout.write(`platform ${name}: host ${p.host}, ${p.engineTransport ?? `accel ${p.accel}, tied to connection: ${p.tiedToConnection}`}\n`);
    check(record.identity?.agreed === true && record.identity.platforms.length === 2, `identity proof on both platforms: ${record.identity?.platforms.map((p) => `${p.platform} ${p.detail}`).join('; ')}`);
    const samples = readSamples(join(dir, 'samples.jsonl')).filter((s) => !s.warmup);
    for (const s of samples.filter((x) => ['startup', 'memory_host', 'memory_overhead'].includes(x.metric))) {
      process.stdout.write(`  ${s.platform.padEnd(10)} ${s.metric.padEnd(16)} ${s.value.toFixed(2)} ${s.unit}${s.metric === 'startup' ? ` (poll from ${s.metadata.poll_from}, clock ±${s.metadata.clock_uncertainty_ms} ms)` : ''}\n`);
    }
    check(samples.some((s) => s.metric === 'startup' && s.platform === 'vm') && samples.some((s) => s.metric === 'startup' && s.platform === 'container'), 'startup measured on both');
    const containers = await new Dockerode().listContainers({ all: true, filters: { label: [`vmbench.run=${runId}`] } });
    check(containers.length === 0, 'no container of the run left');
    const qemu = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`vmbench-${runId}-`);
      } catch {
        return false;
      }
    });
    check(qemu.length === 0, 'no qemu of the run left');
    check(!existsSync(join(sshd.home, '.cache', 'vmbench-host', 'runs', runId)), "the host's run dir is gone");
    await new Promise((res) => setTimeout(res, 3000));
    check(sshd.userPids().length === 0, 'no process of the SSH user left');
  }
} finally {
  await sshd.stop();
  if (values.keep) process.stdout.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
