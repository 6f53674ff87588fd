#!/usr/bin/env bash
# Soak test of cleanup and resume (issue 13): real `bench run`s interrupted at random points — during
# the artifact build, a VM boot, a load window, density — with SIGINT, SIGTERM or SIGKILL; after each,
# `bench gc --run <id>` (SIGKILL only), a check that nothing of the run is left (containers, QEMU and
# other processes, overlays, scratch dir, owner marker, cache temp dirs), `bench run --resume`, and a
# check that every sample on disk at the interrupt is still there and the run completed.
#
#   bench/soak.sh                       # 15 minutes (no run starts that could overrun it)
#   bench/soak.sh --minutes 5 --where load,density --signals SIGKILL
#   bench/soak.sh --seed 42 --out results/soak-x --keep-artifacts
#
# Prints runs, interrupts (by signal and point), leaked containers / qemu processes / overlays /
# scratch dirs / owner markers / temp dirs and lost samples; details in OUT/soak.json, logs in OUT/logs.
# Exit: 0 nothing leaked or lost and every resumed run completed · 1 otherwise · 2 bad flags.
# Only this checkout's cache (.bench or $VMBENCH_CACHE_DIR) and the soak's own run ids are touched:
# gc is always scoped with --run. Nothing but 127.0.0.1 is used.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
# The runs use the built CLI (dist/): build it, so they never run a stale harness.
npm run build >&2
exec npx tsx bench/soak.ts "$@"
