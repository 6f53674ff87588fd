import { describe, expect, it } from 'vitest';
import { BenchError } from '../../../../src/errors.js';
import { exposedTcpPorts, resolveLaunch, resolveUser } from '../../../../src/workload/build/image/launch.js';

const config = {
  Entrypoint: ['/entry.sh'],
  Cmd: ['serve', '--port', '8000'],
  Env: ['PATH=/opt/bin:/usr/bin', 'A=1'],
  WorkingDir: '/srv',
  User: 'model',
  ExposedPorts: { '8000/tcp': {} },
};

describe('resolveLaunch (docker run semantics)', () => {
  it("takes the image's config as is", () => {
    expect(resolveLaunch(config, {}, 'img')).toEqual({
      entrypoint: ['/entry.sh'], cmd: ['serve', '--port', '8000'], env: ['PATH=/opt/bin:/usr/bin', 'A=1'],
      workingDir: '/srv', user: 'model', port: 8000, stopSignal: 'SIGTERM',
    });
  });

  it('command replaces CMD and keeps ENTRYPOINT; entrypoint replaces ENTRYPOINT and clears CMD', () => {
    expect(resolveLaunch(config, { command: ['other'] }, 'img')).toMatchObject({ entrypoint: ['/entry.sh'], cmd: ['other'] });
    expect(resolveLaunch(config, { entrypoint: ['/bin/x'] }, 'img')).toMatchObject({ entrypoint: ['/bin/x'], cmd: [] });
    expect(resolveLaunch(config, { entrypoint: ['/bin/x'], command: ['y'] }, 'img')).toMatchObject({ entrypoint: ['/bin/x'], cmd: ['y'] });
  });

  it('env overrides by name and appends new names; PATH is added when the image has none', () => {
    expect(resolveLaunch(config, { env: { A: '2', B: 'x y' } }, 'img').env).toEqual(['PATH=/opt/bin:/usr/bin', 'A=2', 'B=x y']);
    expect(resolveLaunch({ ...config, Env: null }, {}, 'img').env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });

  it('needs a port: the one exposed, or the scenario says which', () => {
    expect(resolveLaunch({ ...config, ExposedPorts: { '9000/tcp': {}, '53/udp': {} } }, {}, 'img').port).toBe(9000);
    const none = () => resolveLaunch({ ...config, ExposedPorts: null }, {}, 'img');
    expect(none).toThrow(BenchError);
    expect(none).toThrow(/exposes no TCP port/);
    expect(() => resolveLaunch({ ...config, ExposedPorts: { '1/tcp': {}, '2': {} } }, {}, 'img')).toThrow(/several TCP ports \(1, 2\)/);
    expect(resolveLaunch({ ...config, ExposedPorts: null }, { port: 7 }, 'img').port).toBe(7);
    expect(exposedTcpPorts({ '80/tcp': {}, '443': {}, '53/udp': {} })).toEqual([80, 443]);
  });

  it('refuses an image with nothing to run, and a relative working directory', () => {
    expect(() => resolveLaunch({ Entrypoint: null, Cmd: null, ExposedPorts: { '1/tcp': {} } }, {}, 'img')).toThrow(/neither ENTRYPOINT nor CMD/);
    expect(() => resolveLaunch(config, { workdir: 'rel' }, 'img')).toThrow(/not absolute/);
  });

  it('defaults: working directory /, root, SIGTERM; the image stop signal when it has one', () => {
    const l = resolveLaunch({ Cmd: ['x'], ExposedPorts: { '1/tcp': {} }, StopSignal: 'SIGINT' }, {}, 'img');
    expect(l).toMatchObject({ workingDir: '/', user: '', stopSignal: 'SIGINT' });
  });
});

const passwd = ['root:x:0:0:root:/root:/bin/bash', 'model:x:1000:1000:m:/srv:/usr/sbin/nologin', 'other:x:1001:1001::/home/o:/bin/sh', ''].join('\n');
const group = ['root:x:0:', 'model:x:1000:', 'audio:x:29:model,other', 'video:x:44:model', 'staff:x:50:other', ''].join('\n');

describe('resolveUser (runc GetExecUser semantics)', () => {
  it('root by default', () => {
    expect(resolveUser('', passwd, group, 'img')).toEqual({ uid: 0, gid: 0, groups: [], home: '/root' });
  });
  it('a name: its uid, primary gid, home, and the groups that list it', () => {
    expect(resolveUser('model', passwd, group, 'img')).toEqual({ uid: 1000, gid: 1000, groups: [29, 44], home: '/srv' });
  });
  it('name:group and uid:gid set the primary group', () => {
    expect(resolveUser('model:staff', passwd, group, 'img')).toMatchObject({ uid: 1000, gid: 50 });
    expect(resolveUser('1001:7', passwd, group, 'img')).toEqual({ uid: 1001, gid: 7, groups: [29, 50], home: '/home/o' });
  });
  it('a number need not be in passwd (gid 0, home /); a name must', () => {
    expect(resolveUser('4242', passwd, group, 'img')).toEqual({ uid: 4242, gid: 0, groups: [], home: '/' });
    expect(() => resolveUser('nobody-here', passwd, group, 'img')).toThrow(/not in the image's \/etc\/passwd/);
    expect(() => resolveUser('model:nogroup', passwd, group, 'img')).toThrow(/not in the image's \/etc\/group/);
  });
  it('an image without passwd still runs as root or a number', () => {
    expect(resolveUser('', '', '', 'img')).toEqual({ uid: 0, gid: 0, groups: [], home: '/' });
    expect(resolveUser('65532:65532', '', '', 'img')).toEqual({ uid: 65532, gid: 65532, groups: [], home: '/' });
  });
});
