/**
 * The GPU checks only a GPU host can do (issue 18, "checked on real
 * hardware"): what this project's detection code reads from a real driver,
 * cross-checked against the GPU probe, the container access it chooses tried
 * for real with the probe inside a container, and the doctor's verdict on
 * scenarios/gpu-resnet.yaml. Every raw output is written to OUT_DIR as a
 * *.RECORDED.* candidate for test/fixtures/gpu/. Not a test (`npm test`
 * never runs it); run by bench/gpu-check.sh. Without a GPU it says so and
 * exits 1: nothing here is a GPU figure unless it ran on one.
 *
 *   npx tsx bench/gpu-check.ts OUT_DIR [--plumbing]
 *
 * --plumbing runs the container step even where no GPU can be given to it
 * (explicit access with no devices): it checks the image, the run and the
 * cleanup on a GPU-less host; the probe inside then reports no driver.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { gatherGpuFindings } from '../src/cli/doctor/gpu-gather.js';
import { gpuProblems, gpuWantsOf } from '../src/cli/doctor/gpu-readiness.js';
import { chooseDockerGpuAccess, withGpu } from '../src/platforms/docker/gpu-options.js';
import { detectDockerGpuHost, dockerInfoForGpu } from '../src/platforms/docker/gpu-host.js';
import { runHostCommand } from '../src/platforms/host/command-runner.js';
import { detectGpuHost } from '../src/platforms/host/gpu.js';
import { gpuProbePath, parseGpuProbeOutput } from '../src/platforms/host/gpu-probe.js';
import { APPS_QUERY_ARGS, GPU_QUERY_ARGS, normalizePciAddress, parseComputeApps, parseGpuQuery } from '../src/platforms/host/nvidia-smi.js';
import { loadScenarioFile } from '../src/scenario/load.js';

const outDir = process.argv[2] ?? join('.bench', `gpu-check-${Date.now()}`);
const plumbing = process.argv.includes('--plumbing');
mkdirSync(outDir, { recursive: true });
type Verdict = 'PASS' | 'FAIL' | 'SKIP' | 'INFO';
const results: Array<{ check: string; verdict: Verdict; detail: string }> = [];
const record = (check: string, verdict: Verdict, detail: string) => {
  results.push({ check, verdict, detail });
  process.stdout.write(`${verdict.padEnd(4)} ${check}: ${detail}\n`);
};
const save = (name: string, text: string) => writeFileSync(join(outDir, name), text);

// 1. Raw outputs, recorded as they came.
const smiRaw = await runHostCommand('nvidia-smi', GPU_QUERY_ARGS, { timeoutMs: 20_000 });
// Only what a program really printed becomes a RECORDED candidate.
if (!smiRaw.notFound) save('query-gpu.RECORDED.txt', smiRaw.stdout);
const appsRaw = await runHostCommand('nvidia-smi', APPS_QUERY_ARGS, { timeoutMs: 20_000 });
if (!appsRaw.notFound) save('query-compute-apps.RECORDED.txt', appsRaw.stdout);
const probeRaw = await runHostCommand(gpuProbePath(), [], { timeoutMs: 60_000 });
save('gpu-probe.RECORDED.json', probeRaw.stdout);
save('gpu-probe.exit.txt', `${probeRaw.exitCode}\n${probeRaw.stderr}`);

// 2. What the detection code makes of it.
const facts = await detectGpuHost();
save('host-facts.json', JSON.stringify(facts, null, 2));
const smi = facts.nvidiaSmi;
if (!smi.ok) {
  record('nvidia-smi lists GPUs', 'FAIL', smi.detail);
} else {
  const again = parseGpuQuery(smiRaw.stdout);
  record('nvidia-smi lists GPUs', again.length === smi.gpus.length ? 'PASS' : 'FAIL', smi.gpus.map((g) => `${g.index}: ${g.name} ${g.uuid} ${g.pciAddress} ${g.memoryTotalMiB} MiB, driver ${g.driverVersion}`).join('; '));
}
if (appsRaw.exitCode !== 0) {
  record('nvidia-smi compute apps parse', 'SKIP', appsRaw.notFound ? 'no nvidia-smi' : `nvidia-smi exit ${appsRaw.exitCode}`);
} else try {
  record('nvidia-smi compute apps parse', 'PASS', `${parseComputeApps(appsRaw.stdout).length} processes`);
} catch (err) {
  record('nvidia-smi compute apps parse', 'FAIL', String(err));
}
const probe = facts.probe;
const probeAgain = parseGpuProbeOutput(probeRaw.stdout, probeRaw.exitCode, probeRaw.stderr);
if (probe.status !== 'ok') {
  record('GPU probe', 'FAIL', `${probe.status}: ${probe.detail}`);
} else {
  const incomplete = probe.devices.filter((d) => !d.name || !d.uuid || !d.pciAddress || d.totalMemoryBytes === null || d.contextCreateMs === null);
  record(
    'GPU probe',
    incomplete.length === 0 && probeAgain.devices.length === probe.devices.length ? 'PASS' : 'FAIL',
    `CUDA runtime ${probe.cudaRuntime}, driver ${probe.cudaDriver}; ` +
      probe.devices.map((d) => `${d.index}: ${d.name} ${d.uuid} ${d.pciAddress} sm_${d.computeCapability.replace('.', '')}, ${((d.totalMemoryBytes ?? 0) / 2 ** 30).toFixed(1)} GiB, context ${d.contextCreateMs?.toFixed(1)} ms, first kernel ${d.firstKernelMs?.toFixed(2)} ms (n=1, this process's first context)`).join('; '),
  );
}
// The driver's view and the runtime's must name the same GPUs.
if (smi.ok && probe.status === 'ok') {
  for (const d of probe.devices) {
    const g = smi.gpus.find((x) => x.uuid === d.uuid);
    const memSmi = g?.memoryTotalMiB ?? null;
    const memProbe = d.totalMemoryBytes === null ? null : d.totalMemoryBytes / 2 ** 20;
    const memClose = memSmi !== null && memProbe !== null && Math.abs(memSmi - memProbe) / memSmi < 0.05;
    const same = g !== undefined && normalizePciAddress(g.pciAddress) === normalizePciAddress(d.pciAddress) && memClose;
    record(`probe ↔ nvidia-smi, GPU ${d.uuid}`, same ? 'PASS' : 'FAIL', g ? `PCI ${d.pciAddress} / ${g.pciAddress}; memory ${memProbe?.toFixed(0)} / ${memSmi} MiB` : 'UUID not in nvidia-smi');
  }
}
if (smi.ok) {
  for (const g of smi.gpus) {
    const pci = facts.pciGpus.find((p) => p.address === normalizePciAddress(g.pciAddress));
    record(`sysfs sees GPU ${g.pciAddress}`, pci ? 'PASS' : 'FAIL', pci ? `driver ${pci.driver ?? 'none'}, IOMMU group ${pci.iommuGroup ?? 'none'}` : 'not under /sys/bus/pci/devices');
  }
}
record('IOMMU', facts.iommu.groups > 0 ? 'PASS' : 'SKIP', `${facts.iommu.groups} groups (VFIO passthrough ${facts.iommu.groups > 0 ? 'possible' : 'impossible here'})`);

// 3. The container access the platform would choose, tried with the probe inside a container.
const docker = new Dockerode();
const info = await dockerInfoForGpu(docker);
if (!info) {
  record('container GPU access', 'SKIP', 'no Docker Engine answers on this host');
} else {
  const dockerHost = await detectDockerGpuHost(info, { run: runHostCommand });
  const access = chooseDockerGpuAccess(dockerHost, 'all');
  if (access.mode !== 'none') await probeInContainer(docker, access);
  else {
    record('container GPU access', 'FAIL', access.reason);
    if (plumbing) await probeInContainer(docker, { mode: 'explicit', via: 'plumbing only: no device, no library', devices: [], libraries: [], visible: null });
  }
}

// 4. The doctor's verdict on the scenario users run first.
const loaded = await loadScenarioFile(join(process.cwd(), 'scenarios/gpu-resnet.yaml'));
const wants = gpuWantsOf(loaded.scenario);
const problems = gpuProblems(await gatherGpuFindings(wants, { docker: info ? docker : null }), wants);
save('gpu-resnet.problems.json', JSON.stringify(problems, null, 2));
record('doctor on scenarios/gpu-resnet.yaml', 'INFO', problems.length ? `${problems.length} problems (gpu-resnet.problems.json; for the VM part expected unless vfio/guest_driver are set for this host)` : 'ready to run');

save('summary.json', JSON.stringify({ host: hostname(), at: new Date().toISOString(), results }, null, 2));
process.stdout.write(`\nraw outputs and summary in ${outDir}\n`);
process.exit(results.some((r) => r.verdict === 'FAIL') ? 1 : 0);

/**
 * docker import of the probe with its shared libraries (ldd), run with the
 * GPU options the docker platform would add: the CUDA runtime inside must see
 * the same GPUs. The container and image are this run's (labelled, removed).
 */
async function probeInContainer(d: Dockerode, access: Exclude<ReturnType<typeof chooseDockerGpuAccess>, { mode: 'none' }>): Promise<void> {
  const tag = `vmbench-gpu-check:${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'vmbench-gpu-check-'));
  let container: Dockerode.Container | undefined;
  try {
    const probePath = gpuProbePath();
    const libs = (await execa('ldd', [probePath])).stdout.split('\n').map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1]).filter((p): p is string => !!p);
    for (const f of [...libs]) {
      mkdirSync(join(root, dirname(f)), { recursive: true });
      copyFileSync(f, join(root, f));
    }
    copyFileSync(probePath, join(root, 'probe'));
    await execa('sh', ['-c', `tar -C '${root}' -c . | docker import - ${tag}`]);
    // Tty: the log is the probe's stdout as written (no multiplexing headers).
    const opts = withGpu({ Image: tag, Cmd: ['/probe'], Tty: true, Labels: { 'vmbench.gpu-check': String(process.pid) }, HostConfig: { NetworkMode: 'none' } }, { access, selection: 'all', fallback: false });
    container = await d.createContainer(opts);
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const out = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    save(`gpu-probe.container-${access.mode}.RECORDED.json`, out);
    const inside = parseGpuProbeOutput(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1), StatusCode);
    const uuids = inside.devices.map((x) => x.uuid).sort().join(',');
    const outside = facts.probe.devices.map((x) => x.uuid).sort().join(',');
    record(
      `container GPU access (${access.mode})`,
      inside.status === 'ok' && uuids === outside ? 'PASS' : 'FAIL',
      `${access.via}; probe inside: ${inside.status}, ${inside.devices.map((x) => `${x.name} ${x.uuid} context ${x.contextCreateMs?.toFixed(1)} ms`).join('; ') || inside.detail}`,
    );
  } catch (err) {
    record(`container GPU access (${access.mode})`, 'FAIL', String(err));
  } finally {
    await container?.remove({ force: true }).catch(() => undefined);
    await d.getImage(tag).remove({ force: true }).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}
