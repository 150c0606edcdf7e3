#!/usr/bin/env bash
# The main job on the bundled sample, from nothing: build, generate the sample files in their
# real published formats, ingest them into a warehouse, and answer the example questions.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR
WAREHOUSE="${RENEWAL_WAREHOUSE:-$PWD/warehouse}"
SAMPLE="${SAMPLE_DIR:-$PWD/sample}"

echo "== building renewal (first build of the stack takes a while)"
cargo build --locked -p renewal-cli
renewal() { "$CARGO_TARGET_DIR/debug/renewal" --warehouse "$WAREHOUSE" "$@"; }

echo "== writing the sample into $SAMPLE"
renewal sample --out "$SAMPLE" --boundary-change

echo "== ingesting into $WAREHOUSE"
renewal ingest lookup "$SAMPLE"/Lower_Layer_Super_Output_Area_*.csv
renewal ingest imd --vintage 2019 "$SAMPLE"/File_*
renewal ingest census "$SAMPLE"/2021_general_health_lsoa_sample.csv
renewal ingest benefits --period 2021-01 "$SAMPLE"/claimant_count_lsoa_sample.csv
renewal ingest benefits "$SAMPLE"/claimant_rate_la_sample.csv
renewal ingest services "$SAMPLE"/best_value_indicators_sample.csv
renewal ingest services "$SAMPLE"/neighbourhood_best_value_lsoa_sample.csv \
    "$SAMPLE"/ward_best_value_values_sample.csv
renewal ingest crime "$SAMPLE"/2021-*-renewal-vale-street.csv
renewal ingest boundaries "$SAMPLE"/*.geojson
renewal ingest parents "$SAMPLE"/LAD_*_CSP_*_PFA_*.csv

echo "== warehouse contents"
renewal warehouse list

echo "== IoD2019 summaries by local authority"
renewal summary --vintage 2019 --level lad --format table

echo "== IoD2019 summaries by ward (best-fit from LSOAs)"
renewal summary --vintage 2019 --level ward --ward-vintage WD19 --format table

echo "== Crime per 1,000 residents: every Renewal Vale ward against the authority"
renewal gap --indicator crime-all --authority E08999001 --format table

echo "== IMD score: every Renewal Vale ward against its police force area (a partner geography)"
renewal gap --indicator iod-imd-score --authority E08999001 --benchmark pfa --format table

echo "== The most deprived neighbourhoods (IMD deciles 1-2) against the rest of Renewal Vale"
renewal versus --indicator crime-all --authority E08999001 --select 'imd-decile<=2' --format table

echo "== Narrowing the gap: Canal Side against the rest of Renewal Vale (Best Value BV-HOMES-01)"
renewal trend --indicator bv-homes-01 --authority E08999001 --select areas:E05999001 --format table

echo "== A map of Renewal Vale's wards: GeoJSON whose feature properties are the gap rows"
renewal map --indicator crime-all --authority E08999001 --ward-vintage WD19 --simplify 50 \
    -o "$SAMPLE/renewal-vale-crime.geojson"
echo "   written to $SAMPLE/renewal-vale-crime.geojson"

echo "== Target: halve Canal Side's gap by 2024-25"
renewal target add --id halve-canal-side --indicator bv-homes-01 --select areas:E05999001 \
    --authority E08999001 --baseline 2014-15 --target 2024-25
renewal target status --format table

echo "== The Local Performance Plan for Renewal Vale, 2023-24: every Best Value and outcome"
echo "   indicator, authority-wide, by ward, deprived neighbourhoods against the rest, trend, target"
renewal target add --id homes2 --indicator bv-homes-02 --select 'imd-decile<=2' \
    --authority E08999001 --baseline 2018-19 --target 2025-26
renewal lpp --authority E08999001 --year 2023-24 --format table

BC="$SAMPLE/boundary-change"
echo "== Across the 2021 boundary change: the LSOA11 -> LSOA21 bridge, 2024 wards, IoD2025,"
echo "   ONS populations for every year (2011 LSOAs to 2020, 2021 LSOAs after), 2024 crime"
renewal ingest lookup "$BC"/LSOA_*.csv
renewal ingest imd --vintage 2025 "$BC"/File_*
renewal ingest population --lsoa-vintage LSOA11 "$BC"/population_mid-*_lsoa11.csv
renewal ingest population "$BC"/sapelsoasyoa_mid-*.csv
renewal ingest population "$BC"/census2021_usual_residents_age6_lsoa21.csv
renewal ingest crime --dataset crime-street-2024 "$BC"/2024-*-renewal-vale-street.csv
renewal ingest boundaries "$BC"/*.geojson

echo "== IoD2025 summaries by 2024 ward (ranks need every LSOA of England: left empty here)"
renewal summary --vintage 2025 --level ward --ward-vintage WD24 --format table

WEIGHTS=(--ward-vintage WD24 --bridge-weights population-census2021-lsoa21)
echo "== Crime per 1,000 residents across the break, on 2024 wards: Millgate against the rest"
echo "   (2021 months bridged from 2011 LSOAs; every month with its own year's population)"
renewal trend --indicator crime-all --authority E08999001 --select areas:E05999203 \
    "${WEIGHTS[@]}" --format table
echo "== ... and Canal Side, whose gap does not close"
renewal trend --indicator crime-all --authority E08999001 --select areas:E05999201 \
    "${WEIGHTS[@]}" --format table
echo "== IoD2025's most deprived neighbourhoods against the rest (imd-decile<=2 is still IoD2019's)"
renewal versus --indicator crime-all --authority E08999001 --select 'imd2025-decile<=2' \
    "${WEIGHTS[@]}" --format table

echo "== Where Renewal Vale Council's money lands: its payments over £500 (Salford's layout),"
echo "   its contract register (suppliers' postcodes) and the ONS Postcode Directory"
renewal ingest spend --body-area E08999001 "$SAMPLE"/spend/renewal_vale_spend_over_500_*.csv
renewal ingest suppliers --dataset renewal-vale-council "$SAMPLE"/spend/renewal_vale_contract_register.csv
renewal ingest postcodes "$SAMPLE"/geography/postcodes/renewal_sample_onspd.csv
SPEND=(--spend spend-renewal-vale-council --suppliers suppliers-renewal-vale-council)
echo "== 2023-24 spend by the IMD decile of the supplier's neighbourhood (only organisations are named)"
renewal spend place "${SPEND[@]}" --period 2023-24 --by decile --format table
echo "== ... inside and outside the council's own district, against the two years before"
renewal spend years "${SPEND[@]}" --period 2023-24 --by district --baseline 2 --format table
echo "== Local Multiplier 3 from the council's supplier survey"
renewal ingest lm3-survey --body-area E08999001 "$SAMPLE"/spend/renewal_vale_lm3_*.csv
renewal lm3 --dataset lm3-renewal-vale --format table

ADDR="${RENEWAL_ADDR:-127.0.0.1:50051}"
echo "== serving the warehouse over gRPC on $ADDR (development mode: loopback, no keys)."
echo "   Try: grpcurl -plaintext $ADDR list    (Ctrl-C stops the server)"
if [ "${RENEWAL_DEMO_NO_SERVER:-}" = "1" ]; then
  echo "== RENEWAL_DEMO_NO_SERVER=1: not starting the server"
  exit 0
fi
exec "$CARGO_TARGET_DIR/debug/renewal" --warehouse "$WAREHOUSE" serve --dev --addr "$ADDR"
