#!/usr/bin/env bash
# Builds the GPU probe (native/gpu-probe/gpu-probe.cu) with nvcc into
# dist/native/vmbench-gpu-probe. The CUDA runtime is linked statically: the
# binary needs only the NVIDIA driver (libcuda.so.1) where it runs.
#
#   scripts/build-gpu-probe.sh            build; without nvcc, say so and exit 0 (setup.sh calls it this way)
#   scripts/build-gpu-probe.sh --require  build; without nvcc, exit 1
#
# nvcc is looked for on PATH, in $CUDA_HOME/bin and in /usr/local/cuda/bin.
# SASS for sm_80 and sm_90 plus PTX for compute_75 (JIT-compiled on any other GPU
# the toolkit supports); CUDA 13's nvcc supports nothing older than sm_75.
set -euo pipefail
cd "$(dirname "$0")/.."
require=0
[[ ${1:-} == --require ]] && require=1
log() { printf '[gpu-probe] %s\n' "$*" >&2; }

nvcc=$(command -v nvcc 2>/dev/null || true)
for cand in "${CUDA_HOME:-}/bin/nvcc" /usr/local/cuda/bin/nvcc; do
  [[ -z $nvcc && -x $cand ]] && nvcc=$cand
done
if [[ -z $nvcc ]]; then
  log "not built: no nvcc (install a CUDA toolkit, or set CUDA_HOME)"
  exit $((require))
fi
src=native/gpu-probe/gpu-probe.cu
out=dist/native/vmbench-gpu-probe
mkdir -p "$(dirname "$out")"
if [[ -x $out && $out -nt $src && $out -nt "$0" ]]; then
  exit 0
fi
log "building $out with $nvcc ($("$nvcc" --version | grep -o 'release [0-9.]*' || echo 'version unknown'))"
"$nvcc" -O2 -std=c++17 -cudart static \
  -gencode arch=compute_75,code=compute_75 \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
