#!/usr/bin/env python3
"""Independent reference for "deprived areas against England" (national gaps).

Pools the selected areas and the rest of England straight from the raw files (csv module,
exact fractions.Fraction sums, only the final float rounded), never Renewal's warehouse.
Written from METHODS.md: "compare the union of selected areas with the remainder" — here the
remainder of England — and "aggregate by summing numerators and denominators".

    # IoD2019 IMD score, population-weighted (numerator sum p*s, denominator sum p):
    # LSOAs in national IMD deciles 1..N (File 2), populations from File 6 (mid-2015,
    # excluding prisoners), scores from UK_IMD_E.csv (overall_local_score, nation E).
    python3 tests/reference/national_gap.py iod --data /work/shared/data --decile 1
    # ... only the authority's LSOAs selected (still against the rest of England):
    python3 tests/reference/national_gap.py iod --data /work/shared/data --decile 1 --authority E06000009
    # A Renewal Best Value template CSV covering England: selected areas against England
    # (all E-coded areas in the file), value = numerator / denominator * 100, one period.
    python3 tests/reference/national_gap.py counts --file bv.csv --areas E05000001,E05000002 --period 2016-17

Output: CSV `part,areas,numerator,denominator,value` with parts `selected`, `rest`, `england`;
numbers as repr(float), areas as integers.
"""
import argparse
import csv
import gzip
import io
import os
import sys
from fractions import Fraction


def read_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        text = f.read().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def number(cell):
    return Fraction(cell.replace(",", "").strip())


def iod(args):
    root = os.path.join(args.data, "imd", "2019")
    deciles, district = {}, {}
    for r in read_csv(os.path.join(root, "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz")):
        code = r["LSOA code (2011)"]
        deciles[code] = int(
            r["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"]
        )
        district[code] = r["Local Authority District code (2019)"]
    population = {
        r["LSOA code (2011)"]: number(r["Total population: mid 2015 (excluding prisoners)"])
        for r in read_csv(os.path.join(root, "File_6_-_IoD2019_Population_Denominators.csv"))
    }
    score = {
        r["lsoa"]: number(r["overall_local_score"])
        for r in read_csv(os.path.join(root, "UK_IMD_E.csv"))
        if r["nation"] == "E"
    }
    england = sorted(set(deciles) & set(population) & set(score))
    print(
        f"{len(deciles)} LSOAs in File 2, {len(population)} in File 6, {len(score)} English in "
        f"UK_IMD_E; {len(england)} in all three",
        file=sys.stderr,
    )
    selected = [
        c for c in england
        if deciles[c] <= args.decile and (args.authority is None or district[c] == args.authority)
    ]
    chosen = set(selected)
    rest = [c for c in england if c not in chosen]
    out = []
    for part, codes in (("selected", selected), ("rest", rest), ("england", england)):
        x = sum((population[c] * score[c] for c in codes), Fraction(0))
        n = sum((population[c] for c in codes), Fraction(0))
        out.append((part, len(codes), x, n, x / n))
    return out


def counts(args):
    wanted = set(a for a in args.areas.split(",") if a)
    rows = [r for r in read_csv(args.file) if r["period"] == args.period]
    figures = {r["area_code"]: (number(r["numerator"]), number(r["denominator"])) for r in rows}
    england = sorted(c for c in figures if c.startswith("E"))
    missing = wanted - set(england)
    if missing:
        sys.exit(f"areas not in the file for {args.period}: {sorted(missing)}")
    selected = [c for c in england if c in wanted]
    rest = [c for c in england if c not in wanted]
    out = []
    for part, codes in (("selected", selected), ("rest", rest), ("england", england)):
        x = sum((figures[c][0] for c in codes), Fraction(0))
        n = sum((figures[c][1] for c in codes), Fraction(0))
        out.append((part, len(codes), x, n, x / n * 100))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    a = sub.add_parser("iod")
    a.add_argument("--data", required=True)
    a.add_argument("--decile", type=int, default=1)
    a.add_argument("--authority")
    b = sub.add_parser("counts")
    b.add_argument("--file", required=True)
    b.add_argument("--areas", required=True)
    b.add_argument("--period", required=True)
    args = p.parse_args()
    out = iod(args) if args.mode == "iod" else counts(args)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["part", "areas", "numerator", "denominator", "value"])
    for part, k, x, n, v in out:
        w.writerow([part, k, repr(float(x)), repr(float(n)), repr(float(v))])


if __name__ == "__main__":
    main()
