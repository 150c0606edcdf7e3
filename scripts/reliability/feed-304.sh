#!/usr/bin/env bash
# The cost of a dashboard's poll: the HTTP feed answering the same question N times with
# If-None-Match (304, the question is not run) against N full answers (200, from the warm
# aggregate cache), on the bundled sample. Prints curl's mean time_total for each.
# Usage: scripts/reliability/feed-304.sh [N]   (env PROFILE=debug|release)
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-200}"
PROFILE="${PROFILE:-debug}"
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR
if [ "$PROFILE" = release ]; then cargo build -q --release -p renewal-cli; else cargo build -q -p renewal-cli; fi
BIN="$CARGO_TARGET_DIR/$PROFILE/renewal"
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
renewal() { "$BIN" --warehouse "$WORK/warehouse" "$@"; }
renewal sample --out "$WORK/sample" >/dev/null
renewal ingest lookup "$WORK"/sample/Lower_Layer_Super_Output_Area_*.csv >/dev/null
renewal ingest imd --vintage 2019 "$WORK"/sample/File_* >/dev/null
renewal ingest crime "$WORK"/sample/2021-*-renewal-vale-street.csv >/dev/null
renewal serve --dev --addr 127.0.0.1:0 --http-addr 127.0.0.1:0 >"$WORK/serve.out" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do grep -q "HTTP feed on" "$WORK/serve.out" && break; sleep 0.1; done
BASE="$(sed -n 's/.*HTTP feed on \(http:[^ ]*\)api\/v1\/.*/\1/p' "$WORK/serve.out")api/v1"
URL="$BASE/gap?indicator=crime-all&authority=E08999001&level=lsoa"
TAG="$(curl -s -D - -o /dev/null "$URL" | sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p')"
mean() { awk '{s+=$1} END {printf "%.3f ms", 1000*s/NR}'; }
for _ in $(seq 1 "$N"); do curl -s -o /dev/null -w '%{time_total}\n' "$URL"; done >"$WORK/full"
for _ in $(seq 1 "$N"); do
  curl -s -o /dev/null -H "If-None-Match: $TAG" -w '%{http_code} %{time_total}\n' "$URL"
done >"$WORK/cond"
echo "non-304 replies: $(grep -vc '^304 ' "$WORK/cond" || true)"
echo "200 (full answer, warm cache), $N requests: $(mean <"$WORK/full")"
echo "304 (If-None-Match),            $N requests: $(awk '{print $2}' "$WORK/cond" | mean)"
