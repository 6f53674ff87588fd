import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPlatform } from '../../../src/platforms/factory.js';
import { isBoxVolume } from '../../../src/platforms/vagrant/box-store.js';
import { vagrantPaths, vagrantProcessEnv } from '../../../src/platforms/vagrant/env.js';
import {
  buildVagrantfile,
  parseSshConfig,
  rubyString,
  TUNNEL_NIC_SLOT,
  USERNET_NIC_SLOT,
  userNetArgs,
  type VagrantfileOptions,
} from '../../../src/platforms/vagrant/vagrantfile.js';
import { VagrantPlatform } from '../../../src/platforms/vagrant/vagrant-platform.js';
import { boxMetadata, boxNameFor, BOX_SOURCE_FILES, boxSourceDir } from '../../../src/workload/build/vm/vagrant-box.js';

const opts: VagrantfileOptions = {
  machineName: 'vmbench-r1-vg-0',
  boxName: 'vmbench-box-0123456789ab',
  uri: 'qemu:///system?socket=/c/vagrant/libvirt/run/libvirt-sock',
  storagePool: 'vmbench',
  driver: 'qemu',
  cpus: 2,
  memoryMiB: 1024,
  cmdline: 'console=ttyS0 root=/dev/vda rw quiet panic=-1 vmbench.port=8080 vmbench.authkey=c3No',
  consoleLog: "/c/vagrant/envs/r1/vg-0/console.log",
  hostPort: 30001,
  guestPort: 8080,
  sshPort: 20002,
  tunnelLocalPort: 20003,
  tunnelRemotePort: 20004,
  privateKeyPath: '/c/vagrant/envs/r1/vg-0/id_ed25519',
  emulatorPath: '/c/vagrant/libvirt/bin/qemu-system-x86_64-tb',
  tcgTbSizeMiB: 64,
  bootTimeoutS: 300,
};

describe('per-instance Vagrantfile', () => {
  const vf = buildVagrantfile(opts);

  it('names the machine after the run, uses the local box and the private libvirtd', () => {
    expect(vf).toContain("config.vm.define 'vmbench-r1-vg-0'");
    expect(vf).toContain("config.vm.box = 'vmbench-box-0123456789ab'");
    expect(vf).toContain("libvirt.uri = 'qemu:///system?socket=/c/vagrant/libvirt/run/libvirt-sock'");
    expect(vf).toContain("libvirt.storage_pool_name = 'vmbench'");
    expect(vf).toContain("libvirt.driver = 'qemu'");
    expect(vf).toContain('libvirt.default_prefix = ""');
    expect(vf).toContain('libvirt.cpus = 2');
    expect(vf).toContain('libvirt.memory = 1024');
    expect(vf).toContain('config.vm.boot_timeout = 300');
  });

  it('attaches no management network; only 127.0.0.1 is used', () => {
    expect(vf).toContain('libvirt.mgmt_attach = false');
    expect(vf).not.toMatch(/192\.168\./);
    expect(vf).toContain('libvirt__tunnel_type: "udp"');
    expect(vf).toContain(`libvirt__slot: "${TUNNEL_NIC_SLOT}"`);
    expect(vf).toContain('auto_config: false');
    for (const m of vf.matchAll(/[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/g)) expect(m[0]).toBe('127.0.0.1');
  });

  it('forwards the server and SSH on 127.0.0.1 through user-net with an explicit PCI slot below the tunnel NIC', () => {
    expect(userNetArgs(opts)).toEqual([
      '-netdev',
      'user,id=vmbnet,restrict=on,hostfwd=tcp:127.0.0.1:30001-:8080,hostfwd=tcp:127.0.0.1:20002-:22',
      '-device',
      `virtio-net-pci,netdev=vmbnet,addr=${USERNET_NIC_SLOT}`,
    ]);
    expect(parseInt(USERNET_NIC_SLOT, 16)).toBeLessThan(parseInt(TUNNEL_NIC_SLOT, 16));
    expect(vf).toContain("libvirt.qemuargs :value => '-netdev'");
    expect(vf).toContain('config.ssh.host = \'127.0.0.1\'');
    expect(vf).toContain('config.ssh.port = 20002');
    expect(() => userNetArgs({ ...opts, sshPort: opts.hostPort })).toThrow(/differ/);
  });

  it('boots with the instance command line, logs the console to a file and caps the TCG cache via the wrapper', () => {
    expect(vf).toContain(`libvirt.cmd_line = '${opts.cmdline}'`);
    expect(vf).toContain(`:path => '${opts.consoleLog}'`);
    expect(vf).toContain(`libvirt.emulator_path = '${opts.emulatorPath}'`);
    expect(vf).toContain("libvirt.qemuenv VMBENCH_TCG_TB_SIZE: '64'");
    expect(vf).toContain(`config.ssh.private_key_path = '${opts.privateKeyPath}'`);
  });

  it('quotes Ruby strings safely and rejects bad names', () => {
    expect(rubyString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(() => rubyString('a\nb')).toThrow();
    expect(() => buildVagrantfile({ ...opts, machineName: 'Bad Name' })).toThrow(/machine name/);
  });
});

describe('vagrant ssh-config parsing', () => {
  it('reads host, port, user and identity file', () => {
    const text = `Host vmbench-r1-vg-0
  HostName 127.0.0.1
  User root
  Port 22555
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  PasswordAuthentication no
  IdentityFile /tmp/x/id_ed25519
  IdentitiesOnly yes
  LogLevel FATAL
`;
    expect(parseSshConfig(text)).toEqual({ host: '127.0.0.1', port: 22555, user: 'root', identityFile: '/tmp/x/id_ed25519' });
    expect(parseSshConfig(text.replace('/tmp/x/id_ed25519', '"/tmp/a b/id"')).identityFile).toBe('/tmp/a b/id');
    expect(() => parseSshConfig('nothing')).toThrow(/ssh-config/);
  });
});

describe('box', () => {
  it('metadata.json rounds the virtual size up to whole GiB', () => {
    expect(boxMetadata(589_299_712)).toEqual({ provider: 'libvirt', format: 'qcow2', virtual_size: 1 });
    expect(boxMetadata(3 * 2 ** 30 + 1).virtual_size).toBe(4);
  });

  it('box names follow the artifact and the box files, never the domain prefix', () => {
    const src = BOX_SOURCE_FILES.map((name) => ({ name, text: readFileSync(join(boxSourceDir(), name), 'utf8') }));
    const a = boxNameFor('a'.repeat(64), src);
    expect(a).toMatch(/^vmbench-box-[0-9a-f]{12}$/);
    expect(boxNameFor('a'.repeat(64), src)).toBe(a);
    expect(boxNameFor('b'.repeat(64), src)).not.toBe(a);
    expect(boxNameFor('a'.repeat(64), [{ name: 'Vagrantfile', text: 'x' }])).not.toBe(a);
    expect(isBoxVolume(`${a}_vagrant_box_image_0_1795641008_box.img`)).toBe(true);
    expect(isBoxVolume('vmbench-r1-vg-0.img')).toBe(false);
  });

  it('the box Vagrantfile boots the carried kernel and initramfs and reaches the VM on 127.0.0.1', () => {
    const vf = readFileSync(join(boxSourceDir(), 'Vagrantfile'), 'utf8');
    expect(vf).toContain('File.expand_path("vmlinuz", __dir__)');
    expect(vf).toContain('File.expand_path("initrd.img", __dir__)');
    expect(vf).toContain('require_relative "vmbench_libvirt"');
    const patch = readFileSync(join(boxSourceDir(), 'vmbench_libvirt.rb'), 'utf8');
    expect(patch).toContain('mgmt_attach == false');
    expect(patch).toContain('"127.0.0.1"');
  });
});

describe('Vagrant paths and factory', () => {
  it('keeps every piece of state under the cache dir', () => {
    const p = vagrantPaths('/c');
    for (const v of [p.home, p.envs, p.state, p.socket, p.qemuRunDir, p.libvirtdPidfile, p.poolDir, p.qemuTbWrapper]) expect(v.startsWith('/c/vagrant/')).toBe(true);
    expect(p.uri).toBe('qemu:///system?socket=/c/vagrant/libvirt/run/libvirt-sock');
    expect(vagrantProcessEnv(p)).toMatchObject({ VAGRANT_HOME: '/c/vagrant/home', LIBVIRT_DEFAULT_URI: p.uri, VAGRANT_CHECKPOINT_DISABLE: '1' });
  });

  it('createPlatform maps kind: vagrant', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmbench-vg-'));
    try {
      writeFileSync(join(dir, 'x'), '');
      const p = createPlatform(
        { name: 'vg', kind: 'vagrant', cpus: 1, memory: 512 * 2 ** 20, provider: 'libvirt', accel: 'tcg', boot_timeout: 60_000, tcg_tb_size: 64 * 2 ** 20, host: 'local' },
        { docker: {} as never, cacheDir: dir },
      );
      expect(p).toBeInstanceOf(VagrantPlatform);
      expect(p.kind).toBe('vagrant');
      expect((p as VagrantPlatform).config).toMatchObject({ cpus: 1, memoryBytes: 512 * 2 ** 20, tcgTbSizeMiB: 64, bootTimeoutMs: 60_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses launch before prepare (its configuration is the schema\'s to check)', async () => {
    const p = new VagrantPlatform('vg', { cpus: 1, memoryBytes: 2 ** 30, provider: 'libvirt', accel: 'tcg', bootTimeoutMs: 1000, tcgTbSizeMiB: 64 }, { cacheDir: '/c' });
    await expect(p.launch({ runId: 'r', instanceId: 'i', port: 1, threads: 1, modelName: 'model' })).rejects.toThrow(/before prepare/);
  });
});
