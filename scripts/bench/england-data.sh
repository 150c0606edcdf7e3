#!/usr/bin/env bash
# England-scale inputs, and their ingest measured beside DuckDB and polars in one run:
#   1. `renewal sample --scale england` writes them (32,844 LSOAs, 7,000 wards, 317 districts,
#      IoD2019 Files 2/5/6, the lookup, 120 months of claimants, 43 police.uk force files of
#      2019 street crime, about 6 million rows, ward rectangles) into $BENCH_DIR/england;
#   2. each family is ingested into a fresh warehouse $BENCH_DIR/warehouse under
#      /usr/bin/time -v (wall, peak RSS), then the same files are converted with DuckDB's plain
#      COPY (SELECT * FROM read_csv(...)) TO ... (FORMAT parquet) and with polars
#      scan_csv(...).sink_parquet(...), each in its own process, each timed the same way.
# Prints a markdown table (also in $BENCH_DIR/results/england-data.md). The warehouse is kept for
# query.sh, load.sh and spatial.sh. Takes several minutes and ~6 GB of disk.
#   scripts/bench/england-data.sh   (env BENCH_DIR, SEED=2019, BENCH_SKIP_BUILD=1, SCALE_DIVISOR=1,
#                                    REUSE_INPUTS=1 keeps the inputs of the last run)
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_setup
bench_python
SEED="${SEED:-2019}"
# SCALE_DIVISOR=100 writes a hundredth of England: a quick run of the script itself.
SCALE=(--scale england)
[ "${SCALE_DIVISOR:-1}" != 1 ] && SCALE+=(--scale-divisor "$SCALE_DIVISOR")
DATA="$BENCH_DIR/england"
WH="$BENCH_DIR/warehouse"
OUT="$BENCH_DIR/results"
CONV="$BENCH_DIR/converted"
mkdir -p "$OUT"
rm -rf "$WH" "$CONV"
mkdir -p "$CONV"
LOG="$OUT/england-data.log"
: >"$LOG"
export LOG
R=("$RENEWAL" --warehouse "$WH" --schemas "$BENCH_ROOT/data-schemas")

if [ "${REUSE_INPUTS:-0}" = 1 ] && [ -s "$OUT/sample.txt" ] && [ -d "$DATA/crime" ]; then
    echo "# reusing the inputs in $DATA (REUSE_INPUTS=1)"
else
    echo "# writing England-scale inputs (seed $SEED) into $DATA"
    rm -rf "$DATA"
    gen="$(timed generate "${R[@]}" sample "${SCALE[@]}" --seed "$SEED" --out "$DATA")"
    "${R[@]}" sample "${SCALE[@]}" --seed "$SEED" --out "$DATA.check" >"$OUT/sample.txt" 2>&1 || true
    # Generated twice: the second listing gives rows and sizes; the files must be identical.
    if ! diff -rq "$DATA" "$DATA.check" >/dev/null; then
        echo "the generator is not deterministic: $DATA and $DATA.check differ" >&2
        exit 1
    fi
    rm -rf "$DATA.check"
    tail -1 "$OUT/sample.txt"
    echo "generated in $(awk '{print $2}' <<<"$gen") s (peak RSS $(awk '{print $3}' <<<"$gen") kB); byte-identical on a second run"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

rows_of() { # rows of the files whose paths match $1 in the sample listing
    grep -E "^wrote .*$1" "$OUT/sample.txt" | sed -E 's/.*\(([0-9]+) rows.*/\1/' | paste -sd+ | bc
}
bytes_of() {
    grep -E "^wrote .*$1" "$OUT/sample.txt" | sed -E 's/.* ([0-9]+) bytes\).*/\1/' | paste -sd+ | bc
}

LOOKUP="$DATA/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"
IOD=("$DATA/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz" "$DATA/File_5_-_IoD2019_Scores.csv"
    "$DATA/File_6_-_IoD2019_Population_Denominators.csv")
CLAIMS="$DATA/claimant_count_lsoa_monthly_2010-2019_lsoa11.csv"
WARDS="$DATA/Wards_(December_2019)_Boundaries_EW_BGC.geojson"
mapfile -t CRIME < <(ls "$DATA"/crime/*-street.csv)

declare -A ROWS BYTES
ROWS[lookup]=$(rows_of "Lookup_in_England"); BYTES[lookup]=$(bytes_of "Lookup_in_England")
ROWS[iod]=$(rows_of "File_[256]_"); BYTES[iod]=$(bytes_of "File_[256]_")
ROWS[claimants]=$(rows_of "claimant_count"); BYTES[claimants]=$(bytes_of "claimant_count")
ROWS[crime]=$(rows_of "crime/"); BYTES[crime]=$(bytes_of "crime/")

RESULTS=()
measure() { # family engine command...
    local family="$1" engine="$2"
    shift 2
    echo "# $family: $engine" >&2
    sync
    local r
    r="$(timed "$family/$engine" "$@")"
    RESULTS+=("$family $engine $(awk '{print $2, $3}' <<<"$r")")
}

measure lookup renewal "${R[@]}" ingest lookup "$LOOKUP"
measure iod renewal "${R[@]}" ingest imd --vintage 2019 "${IOD[@]}"
measure claimants renewal "${R[@]}" ingest benefits "$CLAIMS"
measure crime renewal "${R[@]}" ingest crime --boundaries "$WARDS" "${CRIME[@]}"
for engine in duckdb polars; do
    measure lookup "$engine" "$PY" "$BENCH_ROOT/scripts/bench/copy_csv.py" "$engine" "$CONV/lookup-$engine.parquet" "$LOOKUP"
    # One conversion per IoD file (their columns differ), in one process.
    measure iod "$engine" bash -c "for f in \"\$@\"; do \"$PY\" \"$BENCH_ROOT/scripts/bench/copy_csv.py\" $engine \"$CONV/\$(basename \"\$f\")-$engine.parquet\" \"\$f\" || exit 1; done" _ "${IOD[@]}"
    measure claimants "$engine" "$PY" "$BENCH_ROOT/scripts/bench/copy_csv.py" "$engine" "$CONV/claimants-$engine.parquet" "$CLAIMS"
    measure crime "$engine" "$PY" "$BENCH_ROOT/scripts/bench/copy_csv.py" "$engine" "$CONV/crime-$engine.parquet" "${CRIME[@]}"
done
"${R[@]}" warehouse list >"$OUT/warehouse-list.txt"

{
    echo "| input | rows | CSV MB | tool | wall s | rows/s | peak RSS MB | vs DuckDB COPY |"
    echo "|---|---:|---:|---|---:|---:|---:|---:|"
    for family in lookup iod claimants crime; do
        duck=""
        for line in "${RESULTS[@]}"; do
            read -r f e w _ <<<"$line"
            [ "$f" = "$family" ] && [ "$e" = duckdb ] && duck="$w"
        done
        for line in "${RESULTS[@]}"; do
            read -r f e w rss <<<"$line"
            [ "$f" = "$family" ] || continue
            awk -v f="$f" -v e="$e" -v w="$w" -v rss="$rss" -v rows="${ROWS[$family]}" \
                -v bytes="${BYTES[$family]}" -v duck="$duck" 'BEGIN {
                printf "| %s | %d | %.0f | %s | %.2f | %.0f | %.0f | %.2f× |\n",
                    f, rows, bytes / 1e6, e, w, rows / w, rss / 1024, w / duck }'
        done
    done
} | tee "$OUT/england-data.md"
echo "(ratio: wall time over DuckDB's; Renewal's crime ingest validates, assigns LSOAs and wards, \
and writes incidents plus monthly counts; the copies only convert)"
