#!/usr/bin/env bash
# The gap question at England scale, Renewal beside DuckDB, on the warehouse england-data.sh
# built ($BENCH_DIR/warehouse). For the claimant rate (a proportion: Wilson intervals) and all
# crime (a rate: Byar intervals), latest month, England-wide (7,000 wards) and one authority
# (E08900001, 22 wards):
#   1. checks that DuckDB in process on the same Parquet files gives the same answer as
#      `renewal gap --format json`, every numeric column to 1e-9 (relative), the comparisons and
#      ranks exactly (duckdb_gap.py); stops at the first difference;
#   2. Renewal in process: the CLI (`renewal gap --format json`, a fresh process each run, so
#      process start, catalogue and warehouse listing are counted, as users see them), RUNS times;
#   3. Renewal over gRPC on loopback: a fresh `renewal serve` per question, then renewal-load
#      (Rust tonic client, 1 client): the first request of a 1 s run is the cold figure, then
#      SECS seconds warm;
#   4. DuckDB in process: the first execution on a fresh connection (cold), then RUNS warm.
# Prints a markdown table (also $BENCH_DIR/results/query.md).
#   scripts/bench/query.sh      (env RUNS=20 SECS=10 PORT=50231 BENCH_SKIP_BUILD=1)
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_setup
bench_python
WH="$BENCH_DIR/warehouse"
OUT="$BENCH_DIR/results"
RUNS="${RUNS:-20}"
SECS="${SECS:-10}"
PORT="${PORT:-50231}"
AUTH="${AUTHORITY:-E08900001}"
mkdir -p "$OUT"
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)" >&2
[ -d "$WH" ] || { echo "no warehouse: run scripts/bench/england-data.sh first" >&2; exit 1; }
R=("$RENEWAL" --warehouse "$WH" --schemas "$BENCH_ROOT/data-schemas")
TMP="$(mktemp -d)"
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

start_server() {
    "${R[@]}" serve --dev --addr "127.0.0.1:$PORT" --max-concurrent-queries 64 \
        >"$TMP/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "server did not start" >&2
    exit 1
}
stop_server() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""; }

percentiles() { # p50 p99 (nearest rank) of the numbers on stdin, in ms
    sort -g | awk '{v[NR]=$1} END {p50=int(NR*0.5+0.999999); p99=int(NR*0.99+0.999999);
        printf "%.1f %.1f\n", v[p50], v[p99]}'
}

ROWS=()
for indicator in claimant-rate crime-all; do
    period="$("${R[@]}" gap --indicator "$indicator" --authority "$AUTH" --format json 2>/dev/null |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["period"])')"
    for scope in england "$AUTH"; do
        args=(gap --indicator "$indicator" --period "$period" --format json)
        dargs=()
        if [ "$scope" != england ]; then args+=(--authority "$scope"); dargs=(--authority "$scope"); fi
        echo "# $indicator $period $scope" >&2
        "${R[@]}" "${args[@]}" >"$TMP/renewal.json" 2>/dev/null
        check="$("$PY" "$BENCH_ROOT/scripts/bench/duckdb_gap.py" "$WH" "$indicator" "$period" \
            "${dargs[@]}" --check "$TMP/renewal.json")"
        echo "  same answer: $check" >&2
        rows="$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["rows"])' <<<"$check")"
        # Renewal CLI, fresh process each run.
        : >"$TMP/cli.txt"
        for _ in $(seq 1 "$RUNS"); do
            s=$(date +%s%N)
            "${R[@]}" "${args[@]}" >/dev/null 2>&1
            echo "$(( ($(date +%s%N) - s) / 1000 ))" | awk '{print $1/1000}' >>"$TMP/cli.txt"
        done
        read -r cli50 cli99 < <(percentiles <"$TMP/cli.txt")
        # gRPC: fresh server, first request cold, then warm for SECS seconds.
        start_server
        auth_arg=""
        [ "$scope" != england ] && auth_arg="$scope"
        # A short first run whose first request is the cold one, then the warm run.
        "$LOAD" --addr "127.0.0.1:$PORT" --clients 1 --seconds 1 --mix gap \
            --indicator "$indicator" --authority "$auth_arg" --json >"$TMP/cold.json"
        "$LOAD" --addr "127.0.0.1:$PORT" --clients 1 --seconds "$SECS" --mix gap \
            --indicator "$indicator" --authority "$auth_arg" --json >"$TMP/load.json"
        stop_server
        g_first="$("$PY" -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["first_ms"])' <"$TMP/cold.json")"
        read -r g50 g99 g_n g_err < <("$PY" -c 'import json,sys; r=json.load(sys.stdin)
print("%.2f %.2f %d %d" % (r["ok"]["p50_ms"], r["ok"]["p99_ms"], r["answered"],
      r["requests"] - r["answered"]))' <"$TMP/load.json")
        # DuckDB in process.
        read -r d_cold d50 d99 < <("$PY" "$BENCH_ROOT/scripts/bench/duckdb_gap.py" "$WH" \
            "$indicator" "$period" "${dargs[@]}" --runs "$RUNS" | "$PY" -c 'import json,sys
r=json.load(sys.stdin); print("%.1f %.1f %.1f" % (r["cold_ms"], r["warm_p50_ms"], r["warm_p99_ms"]))')
        ROWS+=("| $indicator $period | $scope | $rows | $cli50 / $cli99 | $g_first | $g50 / $g99 ($g_n req, $g_err errors) | $d_cold | $d50 / $d99 |")
    done
done
{
    echo "| question | scope | rows | Renewal CLI p50 / p99 ms | gRPC cold ms | gRPC warm p50 / p99 ms | DuckDB cold ms | DuckDB warm p50 / p99 ms |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/query.md"
