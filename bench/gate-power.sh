#!/usr/bin/env bash
# The regression gate's false-alarm rate and power, measured on this host (issue 15):
#
#  1. make:   real runs of scenarios/gate-smoke.yaml (docker only, 127.0.0.1 only) — A/A runs at its
#             CPU quota and runs at lower quotas derived (two probe runs at half the quota, alternating with A/A runs) to slow the
#             cold start by ≈ 5 %, 10 %, 20 %, alternating in time — into DIR/runs/;
#  2. replay: for each design (K baseline runs vs C current runs), the gate's false-alarm rate on A/A
#             comparisons and its detection rate for synthetic +5/10/20 % changes injected into real
#             A/A runs and for the real quota runs (with the change each quota really caused), each
#             with the number of comparisons it rests on → stdout, DIR/replay.txt, DIR/replay.json.
#
#   bench/gate-power.sh                                   # 12 A/A + 3 × 4 injected runs (≈ 10–15 min), ≤ 40 min
#   bench/gate-power.sh --aa-runs 16 --runs-per-level 5 --max-minutes 60
#   bench/gate-power.sh --out results/gate-power-x --quotas 1.7,1.5,1.2   # skip the probe
#   bench/gate-power.sh --replay-only results/gate-power-x --thresholds 0,5,10 --designs 5x1,8x3,10x3
#
# make flags:   --aa-runs N --levels 5,10,20 --runs-per-level N --quotas a,b,c --scenario FILE
#               --max-minutes M (stop starting runs after M minutes) --run-timeout S (per run)
# replay flags: --designs … --shipped KxC --thresholds … --changes … --max-comparisons N --metric M --seed N
# Details: npx tsx bench/gate-power.ts --help. Exit: 0 ok · 2 bad flags · 3 the runs failed.
# Every container is the harness's own (`bench run` removes them, also on Ctrl-C); nothing but
# 127.0.0.1 is used. It never runs `bench gc` (that would touch other users' runs on a shared host).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="results/gate-power-$(date +%Y%m%d-%H%M%S)"
REPLAY_ONLY=0
MAKE_ARGS=()
REPLAY_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --out) OUT=${2:?--out needs a directory}; shift 2 ;;
    --replay-only) REPLAY_ONLY=1; OUT=${2:?--replay-only needs a directory}; shift 2 ;;
    --aa-runs|--levels|--runs-per-level|--quotas|--scenario|--max-minutes|--run-timeout)
      MAKE_ARGS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --designs|--shipped|--thresholds|--changes|--max-comparisons|--metric|--seed|--alpha|--power)
      REPLAY_ARGS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$REPLAY_ONLY" = 0 ]; then
  # The runs use the built CLI (dist/): build it, so they never run a stale harness.
  npm run build >&2
  npx tsx bench/gate-power.ts make --out "$OUT" "${MAKE_ARGS[@]}"
fi
npx tsx bench/gate-power.ts replay --from "$OUT" --json "$OUT/replay.json" "${REPLAY_ARGS[@]}" | tee "$OUT/replay.txt"
