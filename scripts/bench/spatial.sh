#!/usr/bin/env bash
# Spatial assignment: POINTS (default 1,000,000) points, uniform over the box the England
# sample's 7,000 ward rectangles tile, placed in wards
#   - by Renewal: `renewal ingest crime --boundaries WARDS POINTS.csv` on a police.uk file whose
#     rows carry coordinates and no LSOA (so every row goes through point-in-polygon; the
#     figure also includes reading the CSV and writing the Parquet), and
#   - by geopandas: read the same CSV (pandas), points_from_xy, read the ward GeoJSON,
#     sjoin(predicate="within"), timed as a whole and for the sjoin alone;
# then checks both place the same number of points in every ward. Markdown table in
# $BENCH_DIR/results/spatial.md. Needs england-data.sh's inputs ($BENCH_DIR/england).
#   scripts/bench/spatial.sh [POINTS]     (env BENCH_SKIP_BUILD=1)
set -euo pipefail
source "$(dirname "$0")/common.sh"
bench_setup
bench_python
POINTS="${1:-1000000}"
OUT="$BENCH_DIR/results"
WARDS="$BENCH_DIR/england/Wards_(December_2019)_Boundaries_EW_BGC.geojson"
[ -f "$WARDS" ] || { echo "no ward boundaries: run scripts/bench/england-data.sh first" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
echo "load average: $(cut -d" " -f1-3 /proc/loadavg)" >&2
LOG="$OUT/spatial.log"
: >"$LOG"
export LOG
"$PY" - "$POINTS" "$TMP/2019-01-points-street.csv" <<'PY'
import random, sys
n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(2019)
# The box of renewal_sample::england::BOX, 1e-4 degrees inside its edges.
w, s, e, north = -3.0 + 1e-4, 51.5 + 1e-4, -0.2 - 1e-4, 53.6 - 1e-4
with open(out, "w", newline="") as f:
    f.write("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
            "LSOA name,Crime type,Last outcome category,Context\r\n")
    for _ in range(n):
        f.write(f",2019-01,Sample Police,Sample Police,{rng.uniform(w, e):.6f},"
                f"{rng.uniform(s, north):.6f},On or near Sample Street,,,Burglary,,\r\n")
PY
r="$(timed renewal "$RENEWAL" --warehouse "$TMP/wh" --schemas "$BENCH_ROOT/data-schemas" \
    ingest crime --boundaries "$WARDS" "$TMP/2019-01-points-street.csv")"
grep -E "point-in-polygon" "$LOG" || true
cat >"$TMP/gp.py" <<'PY'
import json, sys, time
import geopandas as gpd, pandas as pd
t0 = time.perf_counter()
df = pd.read_csv(sys.argv[1])
pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["Longitude"], df["Latitude"]), crs="EPSG:4326")
wards = gpd.read_file(sys.argv[2])[["WD19CD", "geometry"]].to_crs("EPSG:4326")
t1 = time.perf_counter()
joined = gpd.sjoin(pts, wards, predicate="within", how="inner")
t2 = time.perf_counter()
counts = joined.groupby("WD19CD").size()
counts.to_csv(sys.argv[3], header=False)
print(json.dumps({"read_s": t1 - t0, "sjoin_s": t2 - t1, "matched": int(len(joined))}))
PY
g="$(timed geopandas "$PY" "$TMP/gp.py" "$TMP/2019-01-points-street.csv" "$WARDS" "$TMP/gp_counts.csv")"
gp="$(tail -1 "$LOG")"
# Same points in every ward: Renewal's area_monthly_counts against geopandas' counts.
"$PY" - "$TMP/wh" "$TMP/gp_counts.csv" <<'PY'
import csv, glob, sys
import duckdb
f = glob.glob(f"{sys.argv[1]}/crime-*/data/*/area_monthly_counts/*.parquet")
ours = dict(duckdb.sql(f"SELECT area_code, SUM(crimes)::BIGINT FROM read_parquet({f!r}) GROUP BY 1").fetchall())
theirs = {k: int(v) for k, v in csv.reader(open(sys.argv[2]))}
if ours != theirs:
    diff = [k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)]
    sys.exit(f"{len(diff)} wards differ, e.g. {diff[:3]}: {[ (ours.get(k), theirs.get(k)) for k in diff[:3]]}")
print(f"same count in all {len(ours)} wards ({sum(ours.values())} points)")
PY
{
    echo "| $POINTS points into $(grep -c "\"WD19CD\"" "$WARDS") ward polygons | wall s | points/s | peak RSS MB | note |"
    echo "|---|---:|---:|---:|---|"
    read -r _ w rss <<<"$r"
    awk -v w="$w" -v rss="$rss" -v n="$POINTS" 'BEGIN { printf "| Renewal `ingest crime --boundaries` | %.2f | %.0f | %.0f | CSV read, validation, point-in-polygon, Parquet write |\n", w, n / w, rss / 1024 }'
    read -r _ w rss <<<"$g"
    "$PY" -c 'import json,sys; r=json.loads(sys.argv[1]); w=float(sys.argv[2]); n=int(sys.argv[4])
print("| geopandas read + `sjoin` | %.2f | %.0f | %.0f | pandas read_csv + read_file %.2f s, sjoin alone %.2f s (%.0f points/s) |" % (w, n / w, float(sys.argv[3]) / 1024, r["read_s"], r["sjoin_s"], n / r["sjoin_s"]))' "$gp" "$w" "$rss" "$POINTS"
} | tee "$OUT/spatial.md"
