# Sourced by the scripts/bench/*.sh benchmarks: the release build, a copy of it to measure, and
# the Python comparison tools in their own virtual environment.
#   bench_setup            builds (nice -n 19) and copies renewal + renewal-load into $BIN
#   bench_python           creates ~/.cache/renewal-bench-python with duckdb, polars, geopandas,
#                          shapely, pyarrow, grpcio from PyPI (once) and sets $PY
set -euo pipefail
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR
# Where the England-scale inputs and warehouse live between scripts (several GB).
: "${BENCH_DIR:=$HOME/.cache/renewal-bench}"
export BENCH_DIR
BIN="$BENCH_DIR/bin"
VENV="${BENCH_VENV:-$HOME/.cache/renewal-bench-python}"

bench_setup() {
    mkdir -p "$BIN"
    if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
        (cd "$BENCH_ROOT" && nice -n 19 cargo build -q --release -p renewal-cli -p renewal-load)
        # The shared target directory is rebuilt by other checkouts: measure a copy.
        cp "$CARGO_TARGET_DIR/release/renewal" "$CARGO_TARGET_DIR/release/renewal-load" "$BIN/"
    fi
    [ -x "$BIN/renewal" ] && [ -x "$BIN/renewal-load" ] || {
        echo "no release build in $BIN" >&2
        exit 1
    }
    RENEWAL="$BIN/renewal"
    LOAD="$BIN/renewal-load"
}

bench_python() {
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c \
        'import duckdb, polars, geopandas, shapely, pyarrow, grpc' 2>/dev/null; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q duckdb polars geopandas shapely pyarrow grpcio \
            grpcio-reflection protobuf
    fi
    PY="$VENV/bin/python"
}

# `/usr/bin/time -v` of a command: prints "label wall_seconds peak_rss_kb" on stdout, the
# command's own output to $LOG.
timed() {
    local label="$1"
    shift
    local t
    t="$(mktemp)"
    /usr/bin/time -v "$@" >>"${LOG:-/dev/null}" 2>"$t" || {
        cat "$t" >&2
        rm -f "$t"
        return 1
    }
    local wall rss
    wall="$(grep 'Elapsed (wall clock)' "$t" | awk '{print $NF}' |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
    rss="$(grep 'Maximum resident set size' "$t" | awk '{print $NF}')"
    rm -f "$t"
    echo "$label $wall $rss"
}
