#!/usr/bin/env bash
# `renewal ingest postcodes` on a directory the size of a real release: generates ROWS
# (default 2,700,000) postcodes in the 2025 ONSPD layout (all 53 columns, quoted as the ONS
# quotes them, about 1 GB like the real file; ~2% terminated, a few non-English areas), then
# ingests it under /usr/bin/time -v and prints the wall time, peak RSS and the file's size.
# Not run by the tests (it takes minutes). Usage:
#   scripts/bench/postcodes-big.sh [ROWS]      (env PROFILE=debug|release, KEEP=1 keeps files)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS="${1:-2700000}"
PROFILE="${PROFILE:-debug}"
: "${CARGO_TARGET_DIR:=$HOME/.cache/renewal-target}"
export CARGO_TARGET_DIR
if [ "$PROFILE" = release ]; then cargo build -q --release -p renewal-cli; else cargo build -q -p renewal-cli; fi
WORK="$(mktemp -d)"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
# The shared target directory is rebuilt by other checkouts: measure a copy of this build.
cp "$CARGO_TARGET_DIR/$PROFILE/renewal" "$WORK/renewal"
python3 - "$ROWS" "$WORK/ONSPD_NOV_2025_UK.csv" <<'PY'
import sys
rows, out = int(sys.argv[1]), sys.argv[2]
header = ("pcd7,pcd8,pcds,dointr,doterm,cty25cd,ced25cd,lad25cd,wd25cd,parncp25cd,usrtypind,"
          "east1m,north1m,gridind,hlth19cd,nhser24cd,ctry25cd,rgn25cd,ssr95cd,pcon24cd,eer20cd,"
          "educ23cd,ttwa15cd,pco19cd,itl25cd,wdstl05cd,oa01cd,wdcas03cd,npark16cd,lsoa01cd,"
          "msoa01cd,ruc01ind,oac01ind,oa11cd,lsoa11cd,msoa11cd,wz11cd,sicbl24cd,bua24cd,ruc11ind,"
          "oac11ind,lat,long,lep21cd1,lep21cd2,pfa23cd,imd20ind,cal24cd,icb23cd,oa21cd,lsoa21cd,"
          "msoa21cd,ruc21ind")
letters = "ABDEFGHJLNPQRSTUWXYZ"
areas = ["AB", "B", "BS", "CF", "E", "EC", "G", "L", "LS", "M", "N", "NE", "S", "SW", "W", "YO"]
with open(out, "w", newline="") as f:
    f.write(header + "\r\n")
    n = 0
    # Postcodes in directory order, each unique: area, district, sector, unit.
    for area in areas:
        for district in range(1, 100):
            for sector in range(10):
                for u1 in letters:
                    for u2 in letters:
                        if n == rows:
                            break
                        outward = f"{area}{district}"
                        inward = f"{sector}{u1}{u2}"
                        pcds = f"{outward} {inward}"
                        pcd8 = f"{outward:<4} {inward}" if len(outward) <= 4 else pcds
                        pcd7 = f"{outward:<4}{inward}"[:7] if len(outward) < 4 else outward + inward
                        country = "S" if area in ("AB", "G") else "W" if area == "CF" else "E"
                        lad = f"{country}0{'8' if country == 'E' else '6'}{n % 400:06d}"
                        lsoa = f"{country}01{n % 35000:06d}"
                        term = f"{2000 + n % 24}{1 + n % 12:02d}" if n % 50 == 0 else ""
                        cells = [pcd7, pcd8, pcds, f"{1980 + n % 40}{1 + n % 12:02d}", term,
                                 "E99999999", "E99999999", lad, f"{country}05{n % 9000:06d}",
                                 "E43000001", "0", str(300000 + n % 200000),
                                 f"{400000 + n % 300000:07d}", "1", "E08000001", "E40000001",
                                 f"{country}92000001", "E12000001", "1", "E14000001",
                                 "E15000001", "E09000001", "E30000001", "E16000001",
                                 "E06000001", "99ZZ00", f"{country}00{n % 99999:06d}", "01C30",
                                 "E65000001", lsoa, f"{country}02{n % 7000:06d}", "6", "3C2",
                                 f"{country}00{n % 99999:06d}", lsoa, f"{country}02{n % 7000:06d}",
                                 f"{country}33{n % 50000:06d}", "E38000001", "E63000001", "A1",
                                 "1C3"]
                        quoted = ",".join(f'"{c}"' for c in cells)
                        f.write(f'{quoted},{51 + (n % 1000) / 1000:.6f},{-2 + (n % 997) / 1000:.6f},'
                                f'"E37000001","","E23000001",{n % 32844 + 1},"E56000001",'
                                f'"E54000001","{country}00{n % 99999:06d}","{lsoa}",'
                                f'"{country}02{n % 7000:06d}","1"\r\n')
                        n += 1
if n < rows:
    sys.exit(f"generated only {n} postcodes")
PY
SIZE=$(stat -c %s "$WORK/ONSPD_NOV_2025_UK.csv")
echo "generated $ROWS postcodes, $SIZE bytes"
/usr/bin/time -v "$WORK/renewal" --warehouse "$WORK/warehouse" ingest postcodes \
    "$WORK/ONSPD_NOV_2025_UK.csv" >"$WORK/out.txt" 2>"$WORK/time.txt"
cat "$WORK/out.txt"
grep -E "Elapsed \(wall clock\)|Maximum resident set size" "$WORK/time.txt"
du -sh "$WORK/warehouse/postcodes" | sed 's/^/warehouse: /'
