#!/usr/bin/env bash
# Service load at England scale: `renewal serve` on the warehouse england-data.sh built, with
# the concurrency limit at 64, against renewal-load (Rust, tonic) with 1, 16 and 64 clients for
# SECS seconds each, first the dashboard's mix (gap, profile and versus requests in turn), then
# one authority's ward gap alone (the issue's 5,000 req/s target). Throughput, p50/p99, errors
# and the server's RSS (sampled every 100 ms). Prints a markdown table ($BENCH_DIR/results/load.md).
#   scripts/bench/load.sh       (env SECS=30 PORT=50232 BENCH_SKIP_BUILD=1)
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_setup
bench_python
WH="$BENCH_DIR/warehouse"
OUT="$BENCH_DIR/results"
SECS="${SECS:-30}"
PORT="${PORT:-50232}"
AUTH="${AUTHORITY:-E08900001}"
INDICATOR="${INDICATOR:-claimant-rate}"
mkdir -p "$OUT"
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)" >&2
[ -d "$WH" ] || { echo "no warehouse: run scripts/bench/england-data.sh first" >&2; exit 1; }
TMP="$(mktemp -d)"
"$BENCH_DIR/bin/renewal" --warehouse "$WH" --schemas "$BENCH_ROOT/data-schemas" serve --dev \
    --addr "127.0.0.1:$PORT" --max-concurrent-queries 64 >"$TMP/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
# The first ward of the authority, for the profile requests.
AREA="$("$BENCH_DIR/bin/renewal" --warehouse "$WH" --schemas "$BENCH_ROOT/data-schemas" gap \
    --indicator "$INDICATOR" --authority "$AUTH" 2>/dev/null | sed -n 2p | cut -d, -f2)"
ROWS=()
for mix in gap,profile,versus gap; do
    for clients in 1 16 64; do
        echo "# $mix, $clients clients, $SECS s" >&2
        "$LOAD" --addr "127.0.0.1:$PORT" --clients "$clients" --seconds "$SECS" --mix "$mix" \
            --indicator "$INDICATOR" --authority "$AUTH" --area "$AREA" \
            --select 'imd-decile<=2' --server-pid "$SERVER" --label "$mix x$clients" --json \
            >"$TMP/r.json"
        ROWS+=("$("$PY" -c 'import json,sys; r=json.load(sys.stdin)
errors = r["requests"] - r["answered"]
print("| %s | %d | %.0f | %.2f | %.2f | %d | %s | %.0f |" % (r["label"].split(" x")[0],
      r["clients"], r["throughput"], r["ok"]["p50_ms"], r["ok"]["p99_ms"], errors,
      ", ".join("%s %d" % kv for kv in r["codes"].items()), r["rss_peak_mib"] or 0))' <"$TMP/r.json")")
    done
done
{
    echo "| mix ($INDICATOR, $AUTH) | clients | answered/s | p50 ms | p99 ms | errors | codes | server peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|---|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/load.md"
