#!/usr/bin/env python3
"""Independent reference for the Local Performance Plan tests (standard library only).

Reads the raw sample files, never Renewal's output:
  lpp_reference.py SAMPLE_DIR AUTHORITY YEAR INDICATOR_LSOA INDICATOR_WARD
and prints JSON:
  {"authority": [num, den], "deprived": [num, den, lsoas], "rest": [num, den, lsoas],
   "ward_values": {ward: value}, "ward_median": m}
- The LSOA-level indicator's numerators and denominators in YEAR, summed over the
  authority's LSOAs (ONS lookup), over those in IMD deciles 1-2 (IoD2019 File 2) and over
  the rest of the authority.
- The ward-level value-only indicator's values in YEAR for the authority's wards, and their
  median.
"""
import csv
import gzip
import io
import json
import statistics
import sys
from pathlib import Path


def rows(path):
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def main():
    sample, authority, year, lsoa_ind, ward_ind = sys.argv[1:6]
    sample = Path(sample)
    lookup = rows(next(sample.glob("Lower_Layer_Super_Output_Area_*.csv")))
    lsoas = {r["LSOA11CD"] for r in lookup if r["LAD19CD"] == authority}
    wards = {r["WD19CD"] for r in lookup if r["LAD19CD"] == authority}
    domains = rows(sample / "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz")
    decile = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    deprived = {r["LSOA code (2011)"] for r in domains if int(r[decile]) <= 2} & lsoas

    sums = {"authority": [0.0, 0.0], "deprived": [0.0, 0.0], "rest": [0.0, 0.0]}
    for r in rows(sample / "neighbourhood_best_value_lsoa_sample.csv"):
        if r["indicator_id"] != lsoa_ind or r["period"] != year or r["area_code"] not in lsoas:
            continue
        n, d = float(r["numerator"]), float(r["denominator"])
        for part in ("authority", "deprived" if r["area_code"] in deprived else "rest"):
            sums[part][0] += n
            sums[part][1] += d
    sums["deprived"].append(len(deprived))
    sums["rest"].append(len(lsoas - deprived))

    values = {}
    for r in rows(sample / "ward_best_value_values_sample.csv"):
        if r["indicator_id"] == ward_ind and r["period"] == year and r["area_code"] in wards:
            values[r["area_code"]] = float(r["value"])
    sums["ward_values"] = values
    sums["ward_median"] = statistics.median(values.values()) if values else None
    print(json.dumps(sums, sort_keys=True))


if __name__ == "__main__":
    main()
