#!/usr/bin/env bash
# Bring your own server, end to end, exactly as README "Measuring your own server" tells a user — run once
# by hand (it boots VMs: minutes under TCG), not part of `npm test`:
#
#  1. build the independent example image (Python + numpy, v2 REST) into the local engine, then
#     `docker save` it to a file — what a user brings from another machine;
#  2. `bench check-server ./my-server.tar --model dense` (must pass), and the deliberately broken variant
#     (`--env V2_BREAK=…`, must fail with one line per failed check);
#  3. `bench validate` + `bench run` of a scenario next to the archive (`image: ./my-server.tar`) on Docker
#     (bridge) and QEMU, writing results, report.html and decision.md into the work directory;
#  4. prints the run's startup / cold start / memory medians, the identity check and the server check.
#
#   bench/byo-e2e.sh                 # work dir under /tmp, removed on exit
#   bench/byo-e2e.sh --keep DIR      # keep everything in DIR
#
# Exit 0 when every step did what it should; 1 otherwise. Every container and VM is the harness's own run
# (it removes them); traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
KEEP=""
if [ "${1:-}" = "--keep" ]; then KEEP=${2:?--keep needs a directory}; fi
WORK=${KEEP:-$(mktemp -d /tmp/vmbench-byo-e2e-XXXXXX)}
mkdir -p "$WORK"
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT
BENCH="node $ROOT/dist/cli/main.js"
export CI=1

t0=$(date +%s)
npx tsx examples/python-v2-server/build.ts --save "$WORK/my-server.tar"
echo "== image + docker save: $(( $(date +%s) - t0 )) s"

cd "$WORK"
$BENCH check-server ./my-server.tar --model dense
set +e
$BENCH check-server ./my-server.tar --model dense --env V2_BREAK=server_metadata,infer_id,error_json >broken.txt 2>&1
rc=$?
set -e
cat broken.txt
if [ $rc -ne 1 ] || [ "$(grep -c '✗' broken.txt)" -lt 3 ]; then echo "broken variant: expected exit 1 and ≥ 3 failed checks, got exit $rc" >&2; exit 1; fi

cat >my-server.yaml <<'YAML'
name: my-server
workload:
  image: ./my-server.tar
  model_name: dense
resources: { cpus: 1, memory: 1GiB }
platforms:
  - { name: container, kind: docker, network: bridge }
  - { name: vm, kind: qemu }
measurements:
  startup: { repetitions: 2, warmup: 0, timeout: 300s }
  cold_start: { repetitions: 1, timeout: 300s }
  memory: { settle: 2s }
  throughput: { mode: closed, connections: [1], duration: 10s, warmup: 2s }
report:
  formats: [json, markdown, html, decision]
  out: reports
YAML
$BENCH validate my-server.yaml
t1=$(date +%s)
$BENCH run my-server.yaml --results results
echo "== bench run (docker + qemu): $(( $(date +%s) - t1 )) s"
run=$(ls results | head -1)
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const med = (m, p) => { const s = r.summaries.find((x) => x.metric === m && x.platform === p); return s?.summary ? `${s.summary.median.toFixed(1)} ${s.unit} (n=${s.summary.n})` : "—"; };
for (const m of ["startup", "cold_start", "memory_host", "memory_workload_pss", "throughput@c=1"]) console.log(`${m.padEnd(20)} container ${med(m, "container")} · vm ${med(m, "vm")}`);
console.log(`identity agreed: ${r.identity?.agreed}; digests inside: ${r.identity?.platforms.map((p) => p.rootfsDigestInside?.slice(0, 12)).join(", ")} (artifact ${r.artifact?.rootfsDigest.slice(0, 12)})`);
console.log(`server check: ${r.server?.checked ? `${r.server.checks.filter((c) => c.ok).length} of ${r.server.checks.length} passed on ${r.server.platform}` : "not checked"}`);
console.log(`accel: ${JSON.stringify(r.environment?.platforms?.vm?.accel ?? r.environment?.platforms?.find?.((p) => p.name === "vm")?.accel ?? "see run.json")}`);
if (r.status !== "completed" || !r.identity?.agreed || !r.server?.passed) process.exit(1);
' "results/$run/run.json"
test -s "reports/$run/decision.md" && grep -m1 "own server" "reports/$run/decision.md"
echo "== total $(( $(date +%s) - t0 )) s; work dir $WORK"
