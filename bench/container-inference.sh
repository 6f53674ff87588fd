#!/usr/bin/env bash
# Container inference latency and throughput for the README's performance notes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx bench/container-inference.ts "$@"
