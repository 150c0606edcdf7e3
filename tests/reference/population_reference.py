#!/usr/bin/env python3
"""Independent reference for `renewal ingest population`: LSOA population by age band.

Reads the raw published files (Python standard library only, no Renewal code) and prints one
CSV row per (LSOA, year, sex, age band), sorted, with the band summed from the file's own age
groups:

    lsoa_code,year,sex,age_band,value

Layouts understood (told apart by header):
  * ONS open-data layout (Trafford Data Lab): period,area_code,...,sex,all_ages,...,0,...,89,90+;
    rows Persons/Females/Males; year = first four characters of `period`.
  * ONS Census 2021 custom dataset: ...,Age (6 categories),Observation; persons only; year 2021.

Bands: all_ages, 0-15, 16-64, 65+ always; 16-59, 18-64, 60+ where single years allow.
The published totals of the open-data layout are checked against the single years (stderr
reports any difference and the script exits 1).

    python3 tests/reference/population_reference.py FILE [FILE ...] [--totals]

`--totals` prints instead `year,sex,age_band,lsoa_count,total` summed over LSOAs, and over
English (E01) LSOAs only as sex `persons-england` for the census.
"""

import csv
import sys
from collections import defaultdict

SINGLE_YEAR_BANDS = {
    "all_ages": (0, 999),
    "0-15": (0, 15),
    "16-64": (16, 64),
    "65+": (65, 999),
    "16-59": (16, 59),
    "18-64": (18, 64),
    "60+": (60, 999),
}

# Census age categories by label: (first age, last age).
CENSUS_CATEGORIES = {
    "Aged 15 years and under": (0, 15),
    "Aged 16 to 24 years": (16, 24),
    "Aged 25 to 34 years": (25, 34),
    "Aged 35 to 49 years": (35, 49),
    "Aged 50 to 64 years": (50, 64),
    "Aged 65 years and over": (65, 999),
}
CENSUS_BANDS = {k: SINGLE_YEAR_BANDS[k] for k in ("all_ages", "0-15", "16-64", "65+")}

PUBLISHED = {
    "all_ages": "all_ages",
    "aged_0_to_15": "0-15",
    "aged_16_to_64": "16-64",
    "aged_65_and_over": "65+",
}


def open_data_rows(path, out, problems):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for line, row in enumerate(reader, start=2):
            year = int(row["period"][:4])
            sex = row["sex"].strip().lower()
            ages = {}
            for age in range(90):
                ages[age] = int(row[str(age)])
            ages[90] = int(row["90+"])
            for band, (lo, hi) in SINGLE_YEAR_BANDS.items():
                total = sum(v for a, v in ages.items() if lo <= a <= hi)
                out[(row["area_code"], year, sex, band)] += total
            for column, band in PUBLISHED.items():
                lo, hi = SINGLE_YEAR_BANDS[band]
                derived = sum(v for a, v in ages.items() if lo <= a <= hi)
                if int(row[column]) != derived:
                    problems.append(f"{path} line {line}: {column} {row[column]} != {derived}")


def census_rows(path, out):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for row in reader:
            lo, hi = CENSUS_CATEGORIES[row["Age (6 categories)"]]
            value = int(row["Observation"])
            for band, (blo, bhi) in CENSUS_BANDS.items():
                if blo <= lo and hi <= bhi:
                    out[(row["Lower layer Super Output Areas Code"], 2021, "persons", band)] += value


def main(argv):
    totals = "--totals" in argv
    files = [a for a in argv if a != "--totals"]
    out = defaultdict(int)
    problems = []
    for path in files:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f))
        if "Observation" in header:
            census_rows(path, out)
        elif "period" in header and "sex" in header:
            open_data_rows(path, out, problems)
        else:
            sys.exit(f"{path}: unknown layout")
    for p in problems:
        print(p, file=sys.stderr)
    w = csv.writer(sys.stdout, lineterminator="\n")
    if totals:
        agg = defaultdict(lambda: [0, 0])
        for (lsoa, year, sex, band), v in out.items():
            keys = [(year, sex, band)]
            if lsoa.startswith("E01") and sex == "persons":
                keys.append((year, "persons-england", band))
            for k in keys:
                agg[k][0] += 1
                agg[k][1] += v
        w.writerow(["year", "sex", "age_band", "lsoa_count", "total"])
        for k in sorted(agg):
            w.writerow([*k, *agg[k]])
    else:
        w.writerow(["lsoa_code", "year", "sex", "age_band", "value"])
        for k in sorted(out):
            w.writerow([*k, out[k]])
    print(f"{len(out)} rows from {len(files)} files", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
