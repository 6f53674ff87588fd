#!/usr/bin/env bash
# The GPU checks a GPU host can do in under 10 minutes (issue 18). NOT part
# of `npm test`; nothing it prints is claimed anywhere until it ran on a GPU.
#
#   bench/gpu-check.sh [OUT_DIR]                 probe, nvidia-smi, detection cross-checks,
#                                                the container access tried with the probe inside
#                                                a container, the doctor on scenarios/gpu-resnet.yaml
#   VMBENCH_GPU_PROVIDERS=/dir bench/gpu-check.sh   also a short container-only GPU run
#                                                (the CUDA provider + CUDA 12 / cuDNN 9 libraries in /dir)
#
# Writes every raw output to OUT_DIR (default .bench/gpu-check-<time>) as
# *.RECORDED.* — copy the ones that passed into test/fixtures/gpu/ next to the
# SYNTHETIC ones and say in README "GPU hosts" what ran where.
# Exit: 0 every check passed · 1 a check failed (or no GPU) · 2 missing prerequisites.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-.bench/gpu-check-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
say() { printf '[gpu-check] %s\n' "$*" >&2; }

command -v nvidia-smi >/dev/null || say "no nvidia-smi on PATH: the checks below will say what that means"
[[ -e node_modules/.bin/tsx ]] || { say "node_modules missing (npm ci first)"; exit 2; }
scripts/build-gpu-probe.sh --require || { say "the GPU probe could not be built (needs nvcc: a CUDA toolkit)"; exit 2; }

timeout 300 npx tsx bench/gpu-check.ts "$out" ${VMBENCH_GPU_CHECK_PLUMBING:+--plumbing}
rc=$?

if [[ -n ${VMBENCH_GPU_PROVIDERS:-} ]]; then
  # A short container-only run of the GPU workload: the cold-start split, GPU memory/utilisation, batch sweep.
  scen="$out/gpu-container-short.yaml"
  cat >"$scen" <<YAML
name: gpu-container-short
description: gpu-check.sh — ResNet-50 on the GPU in one container, short
workload: { model: resnet50, batch: 1, threads: 2, device: gpu, gpu: { providers: ${VMBENCH_GPU_PROVIDERS} } }
platforms:
  - { name: container, kind: docker, cpus: 2, memory: 4GiB, network: host, gpus: all }
measurements:
  startup:    { repetitions: 2, warmup: 0, timeout: 120s }
  cold_start: { repetitions: 2, timeout: 120s }
  gpu:        { batch_sizes: [1, 8, 32], requests: 50, warmup: 5 }
report: { formats: [json, markdown] }
YAML
  npm run build >/dev/null || exit 2
  say "running $scen (artifact build included; needs debootstrap's packages in the apt cache or a reachable mirror)"
  timeout 420 npx bench run "$scen" --results "$out/results"
  run_rc=$?
  say "bench run exit $run_rc"
  find "$out/results" -name '*.md' -exec cat {} + 2>/dev/null | head -80
  ((run_rc == 0)) || rc=1
else
  say "VMBENCH_GPU_PROVIDERS not set: no GPU workload run (the CUDA provider libraries are not on this host)"
fi
say "outputs in $out (exit $rc)"
exit $rc
