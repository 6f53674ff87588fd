import { describe, expect, it } from 'vitest';
import { BenchError } from '../../src/errors.js';
import { mergeCliHosts, parseHostFlag, parseHostUrl } from '../../src/scenario/hosts.js';
import { parseScenario } from '../../src/scenario/load.js';

const FILE = 'scenarios/remote.yaml';

// Line numbers matter: the errors below name them.
const SCENARIO = (hostLine: string, hosts = '') =>
  [
    'name: r', //                          1
    'workload:', //                        2
    '  model: resnet18', //                3
    ...(hosts ? hosts.split('\n') : []),
    'platforms:',
    '  - name: c',
    '    kind: docker',
    '    cpus: 1',
    '    memory: 1GiB',
    '  - name: vm',
    '    kind: qemu',
    '    cpus: 1',
    '    memory: 1GiB',
    hostLine,
    'measurements:',
    '  startup: { repetitions: 1 }',
    '',
  ].join('\n');

function issueOf(fn: () => unknown): BenchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BenchError) return err;
    throw err;
  }
  throw new Error('expected a BenchError');
}

describe('host URLs', () => {
  it('parses local and ssh://user@host[:port] with key and known_hosts', () => {
    expect(parseHostUrl('local')).toEqual({ kind: 'local' });
    expect(parseHostUrl('ssh://bench@10.0.0.5')).toEqual({ kind: 'ssh', user: 'bench', hostname: '10.0.0.5', port: 22 });
    expect(parseHostUrl('ssh://bench@kvm-box.lan:2222?key=/k/id&known_hosts=/k/kh')).toEqual({
      kind: 'ssh', user: 'bench', hostname: 'kvm-box.lan', port: 2222, key: '/k/id', knownHosts: '/k/kh',
    });
    expect(parseHostUrl('ssh://host')).toMatchObject({ user: null, port: 22 });
    expect(parseHostUrl('ssh://[::1]:2200')).toMatchObject({ hostname: '::1', port: 2200 });
  });

  it('says what is wrong with a bad URL', () => {
    expect(parseHostUrl('http://h')).toMatch(/scheme "http"/);
    expect(parseHostUrl('ssh://u:secret@h')).toMatch(/no password/);
    expect(parseHostUrl('ssh://u:secret@h')).not.toContain('secret');
    expect(parseHostUrl('ssh://u@h/path')).toMatch(/no path/);
    expect(parseHostUrl('ssh://u@h?port=3')).toMatch(/only \?key= and \?known_hosts=/);
    expect(parseHostUrl('kvm-box')).toMatch(/expected "local" or "ssh:\/\/user@host/);
  });

  it('--host NAME=URL flags', () => {
    expect(parseHostFlag('kvm=ssh://b@h')).toEqual({ name: 'kvm', url: 'ssh://b@h' });
    expect(parseHostFlag('kvm')).toMatch(/expected NAME=URL/);
    expect(parseHostFlag('local=ssh://b@h')).toMatch(/cannot be redefined/);
    expect(parseHostFlag('Kvm=ssh://b@h')).toMatch(/host name/);
    expect(parseHostFlag('kvm=ftp://h')).toMatch(/scheme/);
  });

  it('a flag replaces the URL of a host the file defines and keeps its keys', () => {
    const merged = mergeCliHosts({ kvm: { url: 'ssh://a@old', key: '/k' } }, [{ name: 'kvm', url: 'ssh://a@new' }, { name: 'gpu', url: 'ssh://g@h' }]);
    expect(merged).toEqual({ kvm: { url: 'ssh://a@new', key: '/k' }, gpu: { url: 'ssh://g@h' } });
  });
});

describe('hosts: in scenarios', () => {
  it('a platform runs on local unless it names a host', () => {
    const s = parseScenario(SCENARIO(''), FILE);
    expect(s.platforms.map((p) => p.host)).toEqual(['local', 'local']);
    expect(s.hosts).toBeUndefined();
  });

  it('a platform names a host defined under hosts:, with defaults filled', () => {
    const s = parseScenario(SCENARIO('    host: kvm-box', 'hosts:\n  kvm-box: { url: "ssh://bench@10.0.0.5:2222", key: ~/.ssh/bench }'), FILE);
    expect(s.platforms[1]!.host).toBe('kvm-box');
    expect(s.hosts?.['kvm-box']).toEqual({ url: 'ssh://bench@10.0.0.5:2222', key: '~/.ssh/bench', strict_host_key_checking: true });
  });

  it('an undefined host is an error at the platform key, with file:line:column', () => {
    const e = issueOf(() => parseScenario(SCENARIO('    host: kvm-box'), FILE));
    expect(e.kind).toBe('input');
    expect(e.message).toContain(`${FILE}:13:11: platforms[1].host: expected a host defined under hosts: ("local"), got "kvm-box"`);
    expect(e.message).toContain('--host kvm-box=ssh://user@host');
  });

  it('--host supplies a host the file only names', () => {
    const s = parseScenario(SCENARIO('    host: kvm-box'), FILE, { hosts: [{ name: 'kvm-box', url: 'ssh://b@h' }] });
    expect(s.hosts?.['kvm-box']?.url).toBe('ssh://b@h');
  });

  it('a host can name its libvirt for kind: vagrant there; unknown keys are located', () => {
    const s = parseScenario(SCENARIO('    host: kvm', 'hosts:\n  kvm: { url: "ssh://b@h", libvirt: { socket: /run/libvirt/libvirt-sock } }'), FILE);
    expect(s.hosts?.kvm?.libvirt).toEqual({ socket: '/run/libvirt/libvirt-sock', pool: 'default' });
    const e = issueOf(() => parseScenario(SCENARIO('    host: kvm', 'hosts:\n  kvm: { url: "ssh://b@h", libvirt: { pol: x } }'), FILE));
    expect(e.message).toMatch(/scenarios\/remote.yaml:5:\d+: hosts.kvm.libvirt.pol: unknown key "pol" \(did you mean "pool"\?\)/);
  });

  it('bad host entries are located', () => {
    const e = issueOf(() => parseScenario(SCENARIO('    host: kvm', 'hosts:\n  kvm: { url: "http://x", kee: /k }\n  local: { url: "ssh://a@b" }'), FILE));
    expect(e.message).toMatch(/scenarios\/remote.yaml:5:\d+: hosts.kvm.url: expected "local" or "ssh:\/\/user@host/);
    expect(e.message).toMatch(/hosts.kvm.kee: unknown key "kee" \(did you mean "key"\?\)/);
    expect(e.message).toMatch(/hosts.local: "local" is this machine/);
  });
});
