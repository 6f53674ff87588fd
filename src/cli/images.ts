import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { buildArtifact } from '../workload/build/build.js';
import { listArtifacts, matchIds, removeArtifacts } from '../workload/build/artifact-store.js';
import { readBoxInfo, readVagrantBox } from '../workload/build/vm/vagrant-box.js';
import { listAddedBoxes, removeBoxes } from '../platforms/vagrant/box-store.js';
import { vagrantPaths } from '../platforms/vagrant/env.js';
import { textTable, formatMs } from '../report/terminal-table.js';
import type { CliContext } from './context.js';
import { action } from './output.js';
import { progressListener } from './progress.js';

function mib(n: number | null | undefined): string {
  return n == null ? '—' : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

function age(iso: string): string {
  const ms = Date.now() - Date.parse(iso);
  return ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : ms < 86_400_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${(ms / 86_400_000).toFixed(1)} d`;
}

export function registerImages(program: Command, ctx: CliContext): void {
  const images = program
    .command('images')
    .description('build, list and remove workload artifacts (one rootfs → Docker image + VM disk, kernel, initramfs)');

  images
    .command('build')
    .description('build (or reuse from cache) the artifact for a model')
    .option('-m, --model <model>', 'resnet18 | resnet50 | path to an .onnx file', 'resnet18')
    .option('--seed <n>', 'weights seed for generated models', '0')
    .option('--force', 'rebuild even when cached')
    .option('--no-vagrant-box', 'skip the Vagrant box (vagrant.box next to the VM disk)')
    .addHelpText(
      'after',
      '\nBuilds are content-addressed under VMBENCH_CACHE_DIR (default .bench/): unchanged inputs reuse the cache.\n' +
        'The Vagrant box (provider libvirt) is the same disk, kernel and initramfs in a .box file; it is added to the\n' +
        'project-local VAGRANT_HOME (.bench/vagrant/home) on first use (bench run, or `vagrant up` with ./Vagrantfile).',
    )
    .action(
      action(async (opts: { model: string; seed: string; force?: boolean; vagrantBox: boolean }) => {
        const docker = new Dockerode();
        const progress = progressListener(false);
        const t0 = performance.now();
        const artifact = await buildArtifact({
          cacheDir: ctx.cacheDir,
          model: opts.model,
          seed: Number(opts.seed),
          docker,
          force: opts.force,
          vagrantBox: opts.vagrantBox,
          onProgress: (ev) => progress.listener({ type: 'build', ...ev }),
        });
        const box = artifact.vagrant;
        process.stdout.write(
          `artifact ${artifact.id.slice(0, 12)} ready in ${formatMs(performance.now() - t0)}\n` +
            `  rootfs digest  ${artifact.rootfsDigest}\n` +
            `  docker image   ${artifact.docker.image} (${mib(artifact.docker.sizeBytes)})\n` +
            `  vm disk        ${artifact.vm.disk} (${mib(artifact.vm.diskBytes)})\n` +
            `  kernel         ${artifact.vm.kernelVersion} (${mib(artifact.vm.kernelBytes)}), initramfs ${mib(artifact.vm.initrdBytes)}\n` +
            (box ? `  vagrant box    ${box.name} ${box.file} (${mib(box.bytes)})\n` : ''),
        );
        return 0;
      }),
    );

  images
    .command('ls')
    .description('list built artifacts with digest, sizes and age')
    .option('--json', 'print as JSON')
    .action(
      action(async (opts: { json?: boolean }) => {
        const list = await listArtifacts(ctx.cacheDir, new Dockerode());
        if (opts.json) {
          process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          return 0;
        }
        if (!list.length) {
          process.stdout.write('no artifacts built yet (npx bench images build)\n');
          return 0;
        }
        const boxes = await Promise.all(list.map((e) => readVagrantBox(e.artifact).catch(() => undefined)));
        const rows = list.map((e, i) => [
          e.artifact.id.slice(0, 12),
          e.artifact.model.name,
          e.artifact.rootfsDigest.slice(0, 12),
          e.dockerImageExists ? mib(e.artifact.docker.sizeBytes) : 'missing',
          e.diskExists ? mib(e.artifact.vm.diskBytes + e.artifact.vm.kernelBytes + e.artifact.vm.initrdBytes) : 'missing',
          boxes[i] ? `${boxes[i]!.name} (${mib(boxes[i]!.bytes)})` : '—',
          age(e.artifact.createdAt),
        ]);
        process.stdout.write(textTable(['id', 'model', 'rootfs digest', 'docker image', 'vm (disk+kernel+initrd)', 'vagrant box', 'age'], rows) + '\n');
        return 0;
      }),
    );

  images
    .command('rm')
    .description('remove artifacts (their Docker images, VM disks, kernels, Vagrant boxes) and nothing else')
    .argument('[ids...]', 'artifact ids or unique prefixes')
    .option('--all', 'remove every artifact')
    .option('--caches', 'also remove the Debian base and package caches (next build re-downloads)')
    .action(
      action(async (ids: string[], opts: { all?: boolean; caches?: boolean }) => {
        if (!opts.all && ids.length === 0) {
          process.stderr.write('error: name artifact ids (see `bench images ls`) or pass --all\n');
          return 2;
        }
        const docker = new Dockerode();
        // Their Vagrant boxes too: from the project-local VAGRANT_HOME and the private libvirtd's pool.
        const known = (await listArtifacts(ctx.cacheDir, docker)).map((e) => e.artifact);
        let wanted: string[] = [];
        try {
          wanted = opts.all ? known.map((k) => k.id) : matchIds(known.map((k) => k.id), ids);
        } catch {
          // removeArtifacts below reports unknown or ambiguous ids against every artifact directory.
        }
        const targets = known.filter((a) => wanted.includes(a.id));
        const paths = vagrantPaths(ctx.cacheDir);
        const added = await listAddedBoxes(paths);
        const boxNames = new Set<string>();
        for (const a of targets) {
          const info = await readBoxInfo(a.dir);
          if (info && added.includes(info.name)) boxNames.add(info.name);
        }
        if (opts.all) for (const n of added) boxNames.add(n);
        const boxesRemoved = boxNames.size ? await removeBoxes(paths, [...boxNames]) : 0;
        const removed = await removeArtifacts(ctx.cacheDir, docker, opts.all ? 'all' : ids, { includeCaches: opts.caches });
        if (boxesRemoved) process.stdout.write(`removed ${boxesRemoved} vagrant box(es) from ${paths.home}: ${[...boxNames].join(', ')}\n`);
        process.stdout.write(`removed ${removed.length} artifact(s)${removed.length ? `: ${removed.map((id) => id.slice(0, 12)).join(', ')}` : ''}\n`);
        return 0;
      }),
    );
}
