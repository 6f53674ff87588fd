#!/usr/bin/env bash
# Built-in closed-loop generator (src/loadgen) vs wrk against a tiny local
# HTTP server on 127.0.0.1 answering 200 "ok" with keep-alive.
#
# The server is pinned to CPU 0 and each generator to CPU 1 (taskset, when
# there are ≥ 2 CPUs), so the server is the bottleneck and both generators
# face the same ceiling. Prints each generator's best req/s over ROUNDS, their
# ratio (goal ≥ 0.9) and the CPU cores each generator used (goal ≤ 1).
#
#   bench/loadgen-vs-wrk.sh                 # 10 connections, 10 s, 1 round
#   ROUNDS=3 DURATION=10 CONNECTIONS=10 bench/loadgen-vs-wrk.sh
#   NODE_HTTP=1 bench/loadgen-vs-wrk.sh     # also the same loop on node:http
#
# Traffic goes only to 127.0.0.1; every run is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-10}
ROUNDS=${ROUNDS:-1}
NODE_HTTP=${NODE_HTTP:-0}

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk (Debian package)…" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

SERVER_PIN=()
LOAD_PIN=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  LOAD_PIN=(taskset -c 1)
  echo "pinning: server → CPU 0, generators → CPU 1"
else
  echo "pinning: not possible here ($(nproc) CPU(s) or no taskset); numbers are less comparable"
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

PORT_FILE="$tmp/port" "${SERVER_PIN[@]}" node --input-type=module -e '
import http from "node:http";
import fs from "node:fs";
const s = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
  res.end("ok");
});
s.keepAliveTimeout = 60_000;
s.listen(0, "127.0.0.1", () => fs.writeFileSync(process.env.PORT_FILE, String(s.address().port)));
' &
server_pid=$!
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { echo "server did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$tmp/port")/"
echo "server: $URL (pid $server_pid)"
echo "load on this machine before the run: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs; other jobs may be running)"

# Warm the server's JIT so the first measured generator is not penalised.
"${LOAD_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d2s "$URL" >/dev/null

best_wrk=0; best_wrk_cores=0; best_ours=0; best_ours_cores=0; best_http=0; best_http_cores=0
TIMEFORMAT='%U %S %R'
for round in $(seq 1 "$ROUNDS"); do
  { time "${LOAD_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL" >"$tmp/wrk.out"; } 2>"$tmp/wrk.time"
  wrk_rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/wrk.out")
  wrk_cores=$(awk '{printf "%.2f", ($1 + $2) / $3}' "$tmp/wrk.time")
  wrk_p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
  wrk_p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
  echo "round $round  wrk:      ${wrk_rps} req/s  cores ${wrk_cores}  p50 ${wrk_p50}  p99 ${wrk_p99}"

  "${LOAD_PIN[@]}" npx tsx bench/loadgen-bench.ts --url "$URL" --connections "$CONNECTIONS" --duration "$DURATION" >"$tmp/ours.out"
  read -r ours_rps ours_cores ours_p50 ours_p99 ours_err < <(awk '/^RESULT/ {print $2, $3, $4, $5, $6}' "$tmp/ours.out")
  echo "round $round  loadgen:  ${ours_rps} req/s  cores ${ours_cores}  p50 ${ours_p50}ms  p99 ${ours_p99}ms  errors+timeouts ${ours_err}"

  if [ "$wrk_rps" -gt "$best_wrk" ]; then best_wrk=$wrk_rps; best_wrk_cores=$wrk_cores; fi
  if [ "$ours_rps" -gt "$best_ours" ]; then best_ours=$ours_rps; best_ours_cores=$ours_cores; fi

  if [ "$NODE_HTTP" = 1 ]; then
    "${LOAD_PIN[@]}" npx tsx bench/loadgen-bench.ts --client node-http --url "$URL" --connections "$CONNECTIONS" --duration "$DURATION" >"$tmp/http.out"
    read -r http_rps http_cores _ < <(awk '/^RESULT/ {print $2, $3}' "$tmp/http.out")
    echo "round $round  node:http: ${http_rps} req/s  cores ${http_cores}"
    if [ "$http_rps" -gt "$best_http" ]; then best_http=$http_rps; best_http_cores=$http_cores; fi
  fi
done

echo
echo "max req/s  wrk ${best_wrk} (cores ${best_wrk_cores})  loadgen ${best_ours} (cores ${best_ours_cores})"
awk -v a="$best_ours" -v b="$best_wrk" -v c="$best_ours_cores" 'BEGIN {
  r = b > 0 ? a / b : 0
  printf "ratio loadgen/wrk = %.3f (goal ≥ 0.9): %s; loadgen CPU %.2f cores (goal ≤ 1): %s\n", r, r >= 0.9 ? "met" : "NOT met", c, c <= 1 ? "met" : "NOT met"
}'
if [ "$NODE_HTTP" = 1 ]; then
  awk -v a="$best_http" -v b="$best_wrk" -v c="$best_http_cores" 'BEGIN { printf "node:http client for comparison: ratio %.3f, %.2f cores\n", b > 0 ? a / b : 0, c }'
fi
