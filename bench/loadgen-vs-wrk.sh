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

TIMEFORMAT='%U %S %R'
: >"$tmp/rows"   # one line per run: generator req/s cores
for round in $(seq 1 "$ROUNDS"); do
  { time "${LOAD_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL" >"$tmp/wrk.out"; } 2>"$tmp/wrk.time"
  wrk_rps=$(awk '/^Requests\/sec:/ {printf "%d", $2}' "$tmp/wrk.out")
  wrk_cores=$(awk '{printf "%.2f", ($1 + $2) / $3}' "$tmp/wrk.time")
  wrk_p50=$(awk '$1 == "50%" {print $2}' "$tmp/wrk.out")
  wrk_p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk.out")
  echo "round $round  wrk:       ${wrk_rps} req/s  cores ${wrk_cores}  p50 ${wrk_p50}  p99 ${wrk_p99}"
  echo "wrk $wrk_rps $wrk_cores" >>"$tmp/rows"

  "${LOAD_PIN[@]}" npx tsx bench/loadgen-bench.ts --url "$URL" --connections "$CONNECTIONS" --duration "$DURATION" >"$tmp/ours.out"
  read -r ours_rps ours_cores ours_p50 ours_p99 ours_err < <(awk '/^RESULT/ {print $2, $3, $4, $5, $6}' "$tmp/ours.out")
  echo "round $round  loadgen:   ${ours_rps} req/s  cores ${ours_cores}  p50 ${ours_p50}ms  p99 ${ours_p99}ms  errors+timeouts ${ours_err}"
  echo "loadgen $ours_rps $ours_cores" >>"$tmp/rows"

  if [ "$NODE_HTTP" = 1 ]; then
    "${LOAD_PIN[@]}" npx tsx bench/loadgen-bench.ts --client node-http --url "$URL" --connections "$CONNECTIONS" --duration "$DURATION" >"$tmp/http.out"
    read -r http_rps http_cores _ < <(awk '/^RESULT/ {print $2, $3}' "$tmp/http.out")
    echo "round $round  node:http: ${http_rps} req/s  cores ${http_cores}"
    echo "node:http $http_rps $http_cores" >>"$tmp/rows"
  fi
done

# Per generator: max and median req/s, cores at the max, and CPU µs per request
# (cores / req/s: the noise-robust efficiency figure when other jobs share the machine).
echo
awk '
  { n[$1]++; rps[$1, n[$1]] = $2; cores[$1, n[$1]] = $3; us[$1, n[$1]] = $2 > 0 ? $3 / $2 * 1e6 : 0 }
  function median(name, arr,   i, j, t, v, m) {
    m = n[name]; for (i = 1; i <= m; i++) v[i] = arr[name, i]
    for (i = 2; i <= m; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
  }
  END {
    split("wrk loadgen node:http", names, " ")
    for (k = 1; k <= 3; k++) {
      g = names[k]; if (!(g in n)) continue
      best = 0; for (i = 1; i <= n[g]; i++) if (rps[g, i] > best) { best = rps[g, i]; bc = cores[g, i] }
      max[g] = best; med[g] = median(g, rps); bestcores[g] = bc; medus[g] = median(g, us)
      printf "%-10s max %6d req/s (cores %.2f)  median %6d req/s  CPU %.1f µs/request (median)\n", g, best, bc, med[g], medus[g]
    }
    r = max["wrk"] > 0 ? max["loadgen"] / max["wrk"] : 0
    rm = med["wrk"] > 0 ? med["loadgen"] / med["wrk"] : 0
    printf "ratio loadgen/wrk: max %.3f, median %.3f (goal >= 0.9: %s); loadgen cores at its max %.2f (goal <= 1: %s)\n", r, rm, (r >= 0.9 ? "met" : "NOT met"), bestcores["loadgen"], (bestcores["loadgen"] <= 1 ? "met" : "NOT met")
    if ("node:http" in n) printf "node:http client (comparison only): max ratio %.3f\n", (max["wrk"] > 0 ? max["node:http"] / max["wrk"] : 0)
  }' "$tmp/rows"
