#!/usr/bin/env bash
# OCI runtimes beside runc for the Docker Engine vmbench drives: crun and
# gVisor's runsc (Debian packages), registered in /etc/docker/daemon.json
# "runtimes" and loaded by dockerd (SIGHUP reloads them; it is started if none
# runs). Idempotent; called by setup.sh. Needs root.
#
#  - crun 1.8.1 refuses a host whose cgroup2 mount holds controllers while v1
#    hierarchies are in use ("cgroups in hybrid mode not supported"); here the
#    unified mount holds only hugetlb, so a v1 hugetlb hierarchy is mounted,
#    which moves that controller off cgroup2.
#  - the engine runs in experimental mode, which `docker checkpoint` (memory
#    snapshots of containers) needs; a dockerd this project started is restarted
#    once to take it (a reload does not add the checkpoint API), anyone else's is
#    left alone and bench doctor says so.
#  - runsc gets the best platform this host runs (kvm, else ptrace; this build
#    has no systrap) and network passthrough (`--network=host`): its own
#    netstack cannot start under Docker 20.10 here ("cannot run with network
#    enabled in root network namespace"), which bench doctor and every sample
#    record (gvisorNetwork).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup-runtimes] %s\n' "$*" >&2; }

# crun: free cgroup2 of the hugetlb controller (a no-op on pure v1 or pure v2 hosts).
unified=/sys/fs/cgroup/unified/cgroup.controllers
if [[ -r $unified && "$(cat "$unified")" == "hugetlb" ]] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  log "mounting a cgroup v1 hugetlb hierarchy (crun cannot run while cgroup2 holds it)"
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi

# runsc: the best platform this host actually runs.
platform=ptrace
if [[ -w /dev/kvm ]] && timeout 20 runsc --platform=kvm --network=none do /bin/true >/dev/null 2>&1; then platform=kvm; fi

want=$(node -e '
  const [platform] = process.argv.slice(1);
  process.stdout.write(JSON.stringify({
    crun: { path: "/usr/bin/crun" },
    runsc: { path: "/usr/bin/runsc", runtimeArgs: [`--platform=${platform}`, "--network=host"] },
  }));' "$platform")
mkdir -p /etc/docker
changed=$(node -e '
  const fs = require("fs");
  const [file, wantText] = process.argv.slice(1);
  const cfg = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
  const want = JSON.parse(wantText);
  const before = JSON.stringify([cfg.runtimes ?? {}, cfg.experimental]);
  cfg.runtimes = { ...(cfg.runtimes ?? {}), ...want };
  cfg.experimental = true;
  if (JSON.stringify([cfg.runtimes, cfg.experimental]) !== before) { fs.writeFileSync(file, JSON.stringify(cfg, null, 2) + "\n"); process.stdout.write("yes"); }
  else process.stdout.write("no");' /etc/docker/daemon.json "$want")
if [[ $changed == yes ]]; then
  log "registered crun and runsc (platform=$platform, network passthrough) and experimental mode in /etc/docker/daemon.json"
  if pid=$(pidof dockerd); then kill -HUP $pid; sleep 1; fi
fi
# A running dockerd without experimental mode: restart it if this project started it (setup.sh passes --ip-masq=false).
if pid=$(pidof dockerd) && [[ "$(timeout 5 docker info --format '{{.ExperimentalBuild}}' 2>/dev/null)" == false ]]; then
  if tr '\0' ' ' </proc/$pid/cmdline | grep -q -- '--ip-masq=false'; then
    log "restarting the dockerd setup.sh started, for experimental mode (docker checkpoint)"
    kill $pid
    for _ in $(seq 1 40); do kill -0 $pid 2>/dev/null || break; sleep 0.25; done
    setsid -f dockerd --ip-masq=false >>/var/log/vmbench-dockerd.log 2>&1 < /dev/null
    for _ in $(seq 1 60); do timeout 5 docker version >/dev/null 2>&1 && break; sleep 0.5; done
  else
    log "the running dockerd is not in experimental mode and was not started by vmbench: container memory checkpoints stay off"
  fi
fi
