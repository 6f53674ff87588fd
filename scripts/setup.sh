#!/usr/bin/env bash
# Installs whatever vmbench needs that is missing, builds it, and makes sure a
# Docker Engine answers. Idempotent: a second run on a ready machine takes a
# couple of seconds. Needs root (apt-get, dockerd) on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- apt packages
# Tools the harness drives: Docker Engine, QEMU, and what builds the one
# root filesystem both substrates run (debootstrap → ext4 → qcow2, initramfs);
# chromium (headless) is what the HTML report is tested in, DejaVu what charts are drawn with;
# openssh-server is the "remote host" of the remote-host tests (their own sshd on 127.0.0.1); netcat-openbsd
# lets libvirt's qemu+ssh:// reach a libvirtd socket named by ?socket= (the remote-Vagrant test).
packages=(openssh-server docker.io qemu-system-x86 qemu-utils debootstrap e2fsprogs cpio busybox-static
          dropbear-bin openssh-sftp-server openssh-client zstd xz-utils iproute2 procps file ca-certificates
          chromium fonts-dejavu-core crun runsc criu netcat-openbsd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]} — run this script as root (it uses apt-get)"; exit 3
  fi
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Installed here only for the tests, which start their own: the system sshd (0.0.0.0:22) stays off.
  if [[ " ${missing[*]} " == *" openssh-server "* ]]; then systemctl disable --now ssh >/dev/null 2>&1 || true; fi
fi

# ---------------------------------------------------------------- an unprivileged user for QEMU
# The harness starts every QEMU as this user (never root; the kvm group for /dev/kvm): see
# src/platforms/qemu/run-as.ts. Without it (or without root) QEMU runs as the harness's user.
if [[ $(id -u) -eq 0 ]] && ! id -u vmbench-qemu >/dev/null 2>&1; then
  log "creating the system user vmbench-qemu (QEMU runs as it)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmbench-qemu
fi
if getent group kvm >/dev/null && id -u vmbench-qemu >/dev/null 2>&1 && ! id -nG vmbench-qemu | grep -qw kvm; then
  usermod -a -G kvm vmbench-qemu
fi

# ---------------------------------------------------------------- npm
# onnxruntime-node's install script would try to fetch CUDA libraries; its CPU
# binaries ship in the tarball, so skip it.
export ONNXRUNTIME_NODE_INSTALL=skip
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# ---------------------------------------------------------------- build
if [[ ! -f dist/cli/main.js || -n "$(find src scripts/emit-schema.mjs tsconfig*.json -newer dist/cli/main.js -print -quit 2>/dev/null)" ]]; then
  log "building (tsc)"
  npm run --silent build
fi

# ---------------------------------------------------------------- GPU probe (optional)
# Only where a CUDA toolkit's nvcc exists (it says so and exits 0 otherwise);
# a failed build never fails the setup: GPU detection then uses nvidia-smi alone.
./scripts/build-gpu-probe.sh || log "GPU probe not built (see above); bench doctor reports GPUs from nvidia-smi alone"

# ---------------------------------------------------------------- docker engine
# The OCI runtimes beside runc (crun, gVisor's runsc), registered before dockerd (re)loads its config.
./scripts/setup-runtimes.sh
docker_answers() { timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! docker_answers; then
  log "no Docker Engine answers: starting dockerd (log: /var/log/vmbench-dockerd.log)"
  # --ip-masq=false: nothing here needs outbound NAT; containers are reached on 127.0.0.1 only.
  setsid -f dockerd --ip-masq=false >/var/log/vmbench-dockerd.log 2>&1 < /dev/null
  for _ in $(seq 1 60); do docker_answers && break; sleep 0.5; done
  docker_answers || { log "dockerd did not come up; see /var/log/vmbench-dockerd.log"; tail -20 /var/log/vmbench-dockerd.log >&2; exit 3; }
fi
log "ready: docker $(docker version --format '{{.Server.Version}}') (runtimes: $(docker info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}')), $(qemu-system-x86_64 --version | head -1)"
