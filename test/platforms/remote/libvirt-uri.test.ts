import { describe, expect, it } from 'vitest';
import type { ResolvedHost } from '../../../src/platforms/remote/remote-host.js';
import { libvirtUri, sshWrapperScript } from '../../../src/platforms/remote/vagrant/libvirt-uri.js';
import { buildVagrantfile } from '../../../src/platforms/vagrant/vagrantfile.js';

const host: ResolvedHost = {
  name: 'kvm-box', hostname: 'bench.example', port: 2222, user: 'bench', keyPath: '/home/me/.ssh/id_ed25519',
  knownHostsPath: '/home/me/.ssh/known_hosts', strict: true, workDir: '~/.cache/vmbench-host', libvirt: { pool: 'default' },
};

describe('remote libvirt URI', () => {
  it('names the user, port and the ssh wrapper; the system daemon unless a socket is given', () => {
    expect(libvirtUri(host, '/c/ssh')).toBe('qemu+ssh://bench@bench.example:2222/system?command=/c/ssh&no_tty=1');
    expect(libvirtUri({ ...host, libvirt: { pool: 'p', socket: '/run/x/libvirt-sock' } }, '/c/ssh')).toBe(
      'qemu+ssh://bench@bench.example:2222/system?command=/c/ssh&no_tty=1&socket=/run/x/libvirt-sock',
    );
    expect(libvirtUri({ ...host, hostname: 'fe80::1' }, '/c/ssh')).toContain('@[fe80::1]:2222/');
  });
  it('checks the host key against the given known_hosts (strict unless the host says otherwise)', () => {
    const w = sshWrapperScript(host);
    expect(w).toMatch(/UserKnownHostsFile=\/home\/me\/\.ssh\/known_hosts -o StrictHostKeyChecking=yes -i \/home\/me\/\.ssh\/id_ed25519 "\$@"/);
    expect(w).toContain('BatchMode=yes');
    expect(sshWrapperScript({ ...host, strict: false })).toContain('StrictHostKeyChecking=no');
  });
  it('refuses a path that cannot go into a URI unquoted', () => {
    expect(() => libvirtUri({ ...host, libvirt: { pool: 'p', socket: '/tmp/a b' } }, '/c/ssh')).toThrow(/libvirt\.socket "\/tmp\/a b"/);
    expect(() => sshWrapperScript({ ...host, keyPath: "/k'; rm -rf /" })).toThrow(/key/);
  });
});

describe('Vagrantfile for a remote libvirt', () => {
  it('sends SSH through the proxy and boots the kernel and initramfs on the host', () => {
    const v = buildVagrantfile({
      machineName: 'vmbench-r-vm', boxName: 'b', uri: 'qemu+ssh://u@h:22/system', storagePool: 'default', driver: 'qemu', cpus: 1, memoryMiB: 1024,
      cmdline: 'console=ttyS0', consoleLog: '/w/console.log', hostPort: 1, guestPort: 8080, sshPort: 2, tunnelLocalPort: 3, tunnelRemotePort: 4,
      privateKeyPath: '/k', bootTimeoutS: 60, proxyCommand: '/c/ssh -p 22 -l u h -W 127.0.0.1:2', kernel: '/w/cache/vmlinuz', initrd: '/w/cache/initrd.img',
    });
    expect(v).toContain("config.ssh.proxy_command = '/c/ssh -p 22 -l u h -W 127.0.0.1:2'");
    expect(v).toContain("libvirt.kernel = '/w/cache/vmlinuz'");
    expect(v).toContain("libvirt.initrd = '/w/cache/initrd.img'");
    expect(v).toContain("libvirt.uri = 'qemu+ssh://u@h:22/system'");
  });
});
