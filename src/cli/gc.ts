import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { RUN_LABEL } from '../platforms/docker/create-options.js';
import { removeLabelled, removeLabelledImages } from '../platforms/docker/engine.js';
import { cleanupAllVmbenchVms } from '../platforms/qemu/gc.js';
import { cleanupVagrant } from '../platforms/vagrant/cleanup.js';
import type { CliContext } from './context.js';
import { action } from './output.js';
import { gcHost } from './hosts/gc-host.js';
import { collectHost, namedHosts, withHosts } from './hosts/host-flags.js';

export function registerGc(program: Command, ctx: CliContext): void {
  program
    .command('gc')
    .description('remove leftovers of crashed or killed runs: vmbench containers, qemu processes, scratch disks, Vagrant environments and libvirt domains/volumes')
    .option('--host <NAME[=URL]>', 'clean a remote host instead (NAME=ssh://user@host, or NAME from --scenario); repeatable', collectHost, [])
    .option('--scenario <file>', 'where bare --host names are defined (its hosts:)')
    .option('--run <id>', 'with --host: only what this run left there')
    .addHelpText('after', '\nSafe while no `bench run` is in progress. Built artifacts are kept (see `bench images rm`).\nExample: bench gc --host kvm-box=ssh://bench@kvm-box.lan')
    .action(
      action(async (opts: { host: string[]; scenario?: string; run?: string }) => {
        if (opts.host.length) {
          const hosts = await namedHosts(opts.host, opts.scenario);
          await withHosts(hosts, { cacheDir: ctx.cacheDir }, async (r) => {
            for (const h of r.all()) process.stdout.write(`${await gcHost(h, opts.run ?? null)}\n`);
          });
          return 0;
        }
        const docker = new Dockerode();
        const containers = await removeLabelled(docker, RUN_LABEL);
        const images = await removeLabelledImages(docker, RUN_LABEL); // snapshot commits, never the workload images
        // Vagrant first: its domains run QEMU processes named vmbench-* too, and `vagrant destroy` is the clean way.
        const vagrant = await cleanupVagrant(ctx.cacheDir, { log: (l) => process.stderr.write(`gc: ${l}\n`) });
        const vms = await cleanupAllVmbenchVms({ cacheDir: ctx.cacheDir });
        process.stdout.write(
          `removed ${containers} container(s), ${images} snapshot image(s); ${vms.killed} qemu process(es) killed, ${vms.removedDirs} scratch dir(s) removed; ` +
            `${vagrant.environments} vagrant environment(s), ${vagrant.domains} libvirt domain(s), ${vagrant.volumes} volume(s) removed\n`,
        );
        return 0;
      }),
    );
}
