#!/usr/bin/env bash
# Cross-check the harness's container figures against an independent measurement, in one run:
#
#  1. `bench run` (dist/cli/main.js) on a temporary docker-only scenario — ResNet-18, 2 intra-op threads,
#     docker host network, cpus 2, memory 1GiB, cold_start × N, memory after a 2 s settle — and read its
#     cold_start samples, memory_host, memory_workload_pss/rss from the results directory;
#  2. bench/crosscheck-independent.ts, which shares no code with the harness (Node built-ins, the docker
#     CLI, /proc, /sys/fs/cgroup): N × `docker run -d --network host -e VMBENCH_HOST=127.0.0.1
#     -e VMBENCH_PORT=<free port> -e VMBENCH_THREADS=2 --cpus 2 -m 1g <run.json artifact.dockerImage>`
#     → first HTTP 200 of POST /v2/models/model/infer (raw float32 1×3×224×224), polled every 10 ms, then
#     `docker rm -f`; and N containers read 2 s after readiness: /proc/<pid>/smaps_rollup, the memory
#     cgroup, `docker stats --no-stream`;
#  3. bench/crosscheck-report.ts: the table (harness median, independent median, n, diff %, within 5 %)
#     and what each side counts, from the measured parts.
#
#   bench/crosscheck.sh            # N = 5
#   bench/crosscheck.sh --n 10     # or -n 10
#   bench/crosscheck.sh --keep     # keep the temporary scenario, harness results and independent JSON
#
# A report, not a gate: exit 0 whenever the table is printed, whatever it says; 2 for bad flags;
# 3 when a side could not be measured. Every container it (or the harness) started is removed on exit.
# Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

N=5
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--n) N=${2:-}; shift 2 || { echo "--n needs a value" >&2; exit 2; } ;;
    --n=*) N=${1#--n=}; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$N" =~ ^[1-9][0-9]*$ ]]; then echo "--n must be a positive integer (got '$N')" >&2; exit 2; fi

SESSION="crosscheck-$$-$(date +%s)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmbench-crosscheck.XXXXXX")

cleanup() {
  local rc=$?
  # Our own containers (labelled), then any the harness left under this run's id (it removes its own;
  # this is for a harness killed mid-run).
  docker ps -aq --filter "label=crosscheck.session=$SESSION" | xargs -r docker rm -f >/dev/null 2>&1 || true
  for d in "$tmp"/results/*/; do
    [ -d "$d" ] || continue
    docker ps -aq --filter "label=vmbench.run=$(basename "$d")" | xargs -r docker rm -f >/dev/null 2>&1 || true
  done
  if [ "$KEEP" = 1 ]; then echo "kept: $tmp (scenario.yaml, results/, harness.log, independent.json)" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -f dist/cli/main.js ]; then
  echo "dist/ is missing: npm run build" >&2
  npm run build >&2
fi

cat >"$tmp/scenario.yaml" <<EOF
name: crosscheck
description: bench/crosscheck.sh — container cold start and memory, docker only
workload:
  model: resnet18
  threads: 2
platforms:
  - name: container
    kind: docker
    cpus: 2
    memory: 1GiB
    network: host
measurements:
  cold_start: { repetitions: $N }
  memory: { settle: 2s }
runner:
  poll_interval: 10ms
report:
  formats: [json]
EOF

echo "1/3 harness: node dist/cli/main.js run <docker-only scenario, cold_start × $N, memory settle 2s> --json" >&2
if ! CI=1 node dist/cli/main.js run "$tmp/scenario.yaml" --results "$tmp/results" --json >"$tmp/run.json" 2>"$tmp/harness.log"; then
  echo "the harness run failed; its log ends with:" >&2
  tail -n 20 "$tmp/harness.log" >&2
  exit 3
fi
grep -E 'cold_start container:|memory_(host|workload_pss) container:' "$tmp/harness.log" | sed 's/^/    /' >&2 || true

run_id=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).runId)' "$tmp/run.json")
image=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).artifact.dockerImage)' "$tmp/run.json")
run_dir="$tmp/results/$run_id"
[ -f "$run_dir/samples.jsonl" ] || { echo "no samples.jsonl in $run_dir" >&2; exit 3; }

echo "2/3 independent: docker CLI + a tiny node http client, image $image, N = $N" >&2
if ! npx --no-install tsx bench/crosscheck-independent.ts --image "$image" --n "$N" --settle-ms 2000 \
    --label "crosscheck.session=$SESSION" --out "$tmp/independent.json"; then
  echo "the independent measurement failed" >&2
  exit 3
fi

echo "3/3 report" >&2
npx --no-install tsx bench/crosscheck-report.ts --run-dir "$run_dir" --independent "$tmp/independent.json"
exit 0
