#!/usr/bin/env python3
"""Independent reference implementation of the IoD area summaries (METHODS.md, "IoD summaries").

Deliberately shares nothing with the Rust code: it reads the raw published files itself
(UTF-8 BOM, CRLF, gzip, quoted fields, thousands separators, "1296.00"), uses only the
Python 3.11 standard library, and does all arithmetic exactly with fractions.Fraction, so
the only rounding is the final conversion of each result to the nearest float.

    python3 tests/reference/iod_summaries.py --level lad --vintage 2019 \
        --data-dir /work/shared/data [--out FILE] [--population-from-2019]

Output: CSV, one row per area sorted by area_code, header COLUMNS below. Integral values are
printed as integers, other values with repr() of the nearest float (full precision; the
comparison test does the rounding). An empty cell means an input needed for it is missing.
Diagnostics (input and area counts) go to stderr.
"""
import argparse
import csv
import gzip
import io
import math
import os
import sys
from fractions import Fraction

COLUMNS = [
    "area_code", "area_name", "lsoa_count", "population", "average_score",
    "rank_of_average_score", "average_rank", "rank_of_average_rank",
    "proportion_most_deprived_10pct", "extent", "local_concentration",
]
EXPECTED_N = 32844

F2_2019 = "imd/2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
F6_2019 = "imd/2019/File_6_-_IoD2019_Population_Denominators.csv"
UK_IMD = "imd/2019/UK_IMD_E.csv"
IMD_2015 = "imd/2015/imd2015_lsoa11_england.csv"
WARD_LOOKUP = "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"

LSOA_2019 = "LSOA code (2011)"
LAD_CODE_2019 = "Local Authority District code (2019)"
LAD_NAME_2019 = "Local Authority District name (2019)"
RANK_2019 = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
POP_2019 = "Total population: mid 2015 (excluding prisoners)"


def log(msg):
    print(msg, file=sys.stderr)


def read_csv(data_dir, rel):
    """All rows of a CSV (optionally .gz) as dicts; BOM and CRLF handled; header checked later."""
    path = os.path.join(data_dir, rel)
    with open(path, "rb") as fh:
        raw = fh.read()
    if rel.endswith(".gz"):
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")  # strips a leading BOM if present
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return reader.fieldnames or [], rows, path


def need(fieldnames, path, *cols):
    missing = [c for c in cols if c not in fieldnames]
    if missing:
        sys.exit(f"{path}: missing column(s) {missing}; have {fieldnames}")


def number(cell):
    """Exact value of a published number: '29,199' -> 29199, '1296.00' -> 1296, '' -> None."""
    t = (cell or "").strip().replace(",", "")
    if t == "":
        return None
    return Fraction(t)  # Fraction parses decimal strings exactly


def rank_value(cell):
    v = number(cell)
    if v is None:
        return None
    if v.denominator != 1 or v < 1:
        sys.exit(f"bad rank {cell!r}")
    return int(v)


def put(table, key, value, path):
    if key in table:
        sys.exit(f"{path}: duplicate LSOA {key}")
    table[key] = value


def load_2019(data_dir):
    ranks, areas, scores, pops = {}, {}, {}, {}
    fields, rows, path = read_csv(data_dir, F2_2019)
    need(fields, path, LSOA_2019, LAD_CODE_2019, LAD_NAME_2019, RANK_2019)
    for r in rows:
        code = r[LSOA_2019].strip()
        put(ranks, code, rank_value(r[RANK_2019]), path)
        areas[code] = (r[LAD_CODE_2019].strip(), r[LAD_NAME_2019].strip())
    log(f"File 2: {len(rows)} LSOAs")

    fields, rows, path = read_csv(data_dir, UK_IMD)
    need(fields, path, "nation", "lsoa", "overall_local_score")
    for r in rows:
        if r["nation"].strip() == "E":
            put(scores, r["lsoa"].strip(), number(r["overall_local_score"]), path)
    log(f"UK_IMD_E: {len(scores)} English LSOA scores (of {len(rows)} UK rows)")

    pops = load_pop_2019(data_dir)
    return ranks, areas, scores, pops


def load_pop_2019(data_dir):
    pops = {}
    fields, rows, path = read_csv(data_dir, F6_2019)
    need(fields, path, LSOA_2019, POP_2019)
    for r in rows:
        put(pops, r[LSOA_2019].strip(), number(r[POP_2019]), path)
    log(f"File 6: {len(pops)} LSOA populations")
    return pops


def load_2015(data_dir, population_from_2019):
    ranks, areas, scores = {}, {}, {}
    fields, rows, path = read_csv(data_dir, IMD_2015)
    need(fields, path, "lsoa11_code", "lad13_code", "lad13_name", "IMD_score", "IMD_rank")
    for r in rows:
        code = r["lsoa11_code"].strip()
        put(ranks, code, rank_value(r["IMD_rank"]), path)
        scores[code] = number(r["IMD_score"])
        areas[code] = (r["lad13_code"].strip(), r["lad13_name"].strip())
    log(f"IoD2015: {len(rows)} LSOAs")
    pops = load_pop_2019(data_dir) if population_from_2019 else {}
    if not population_from_2019:
        log("IoD2015: no population (pass --population-from-2019 to borrow mid-2015 File 6)")
    return ranks, areas, scores, pops


def ward_groups(data_dir, ranks):
    """WD19CD -> (name, [LSOAs]) for LSOAs in the IoD data; wards with none are dropped."""
    fields, rows, path = read_csv(data_dir, WARD_LOOKUP)
    need(fields, path, "LSOA11CD", "WD19CD", "WD19NM")
    groups, names, seen, skipped = {}, {}, set(), 0
    all_wards = set()
    for r in rows:
        lsoa, ward = r["LSOA11CD"].strip(), r["WD19CD"].strip()
        all_wards.add(ward)
        if lsoa in seen:
            sys.exit(f"{path}: LSOA {lsoa} appears twice")
        seen.add(lsoa)
        if lsoa not in ranks:
            skipped += 1
            continue
        groups.setdefault(ward, []).append(lsoa)
        names[ward] = r["WD19NM"].strip()
    unmapped = sorted(set(ranks) - seen)
    log(f"ward lookup: {len(rows)} rows, {len(all_wards)} wards; {skipped} LSOAs not in the IoD "
        f"data (Welsh) skipped; {len(unmapped)} IoD LSOAs missing from lookup {unmapped[:5]}")
    return {w: (names[w], m) for w, m in groups.items()}


def extent_weight(rank, n):
    """Weight of an LSOA by its national percentile ceil(100 r / N), exactly."""
    percentile = -((-100 * rank) // n)  # integer ceil
    if percentile <= 10:
        return Fraction(1)
    if percentile <= 30:
        # 0.95 at 11, minus 0.9/19 per percentile, reaching 0.05 at 30.
        return Fraction(95, 100) - (percentile - 11) * Fraction(90, 100) / 19
    return Fraction(0)


def summarise(members, ranks, scores, pops, n):
    out = {"lsoa_count": len(members)}
    rk = [ranks.get(m) for m in members]
    have_rank = all(r is not None for r in rk)
    # r <= 0.1 N  <=>  10 r <= N (exact, no 3284.4 float).
    out["proportion_most_deprived_10pct"] = (
        Fraction(sum(1 for r in rk if 10 * r <= n), len(members)) if have_rank else None)

    pp = [pops.get(m) for m in members]
    have_pop = all(p is not None for p in pp)
    total = sum(pp) if have_pop else None
    out["population"] = total
    usable = have_pop and total > 0

    sc = [scores.get(m) for m in members]
    out["average_score"] = (sum(p * s for p, s in zip(pp, sc)) / total
                            if usable and all(s is not None for s in sc) else None)

    if usable and have_rank:
        out["average_rank"] = sum(p * (n + 1 - r) for p, r in zip(pp, rk)) / total
        out["extent"] = sum(p * extent_weight(r, n) for p, r in zip(pp, rk)) / total
        # Most deprived first (national ranks are unique; code breaks any tie deterministically).
        target = total / 10
        remaining, weighted = target, Fraction(0)
        for r, p, _ in sorted(zip(rk, pp, members), key=lambda t: (t[0], t[2])):
            if remaining <= 0:
                break
            take = min(p, remaining)  # last LSOA counted only in part
            weighted += take * (n + 1 - r)
            remaining -= take
        out["local_concentration"] = weighted / target
    else:
        out["average_rank"] = out["extent"] = out["local_concentration"] = None
    return out


def competition_rank(summaries, key):
    """rank_of_<key>: 1 = highest value; ties share the best place (1, 2, 2, 4)."""
    values = sorted((s[key] for s in summaries.values() if s[key] is not None), reverse=True)
    first = {}
    for place, v in enumerate(values, start=1):
        first.setdefault(v, place)
    for s in summaries.values():
        s["rank_of_" + key] = first[s[key]] if s[key] is not None else None


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Fraction) and v.denominator == 1:
        return str(v.numerator)
    return repr(float(v))


def main():
    ap = argparse.ArgumentParser(description="Reference IoD area summaries (stdlib only).")
    ap.add_argument("--level", choices=["lad", "ward"], required=True)
    ap.add_argument("--vintage", choices=["2019", "2015"], required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out", help="write CSV here instead of stdout")
    ap.add_argument("--population-from-2019", action="store_true",
                    help="2015 only: weight by IoD2019 File 6 mid-2015 population "
                         "(official IoD2015 used mid-2012, which we do not have)")
    args = ap.parse_args()

    if args.vintage == "2019":
        ranks, lads, scores, pops = load_2019(args.data_dir)
    else:
        ranks, lads, scores, pops = load_2015(args.data_dir, args.population_from_2019)

    n = len(ranks)  # N = English LSOAs in the IoD file
    if n != EXPECTED_N:
        log(f"WARNING: N = {n}, expected {EXPECTED_N}")
    for label, table in (("score", scores), ("population", pops)):
        if table or label == "score":
            miss = set(ranks) - set(table)
            extra = set(table) - set(ranks)
            log(f"{label}: {len(miss)} IoD LSOAs without a value, {len(extra)} extra LSOAs ignored")
    # Published ranks are 1..N with a few exact ties ranked 1,2,2,4 (2019: 26 pairs, 2015: 20);
    # ties are harmless here (tied LSOAs have the same N + 1 - r), so only report them.
    distinct = len(set(ranks.values()))
    log(f"ranks: min {min(ranks.values())}, max {max(ranks.values())}, "
        f"{n - distinct} tied duplicates")

    if args.level == "lad":
        groups = {}
        for lsoa, (code, name) in lads.items():
            g = groups.setdefault(code, (name, []))
            if g[0] != name:
                log(f"WARNING: {code} has names {g[0]!r} and {name!r}")
            g[1].append(lsoa)
    else:
        groups = ward_groups(args.data_dir, ranks)

    summaries = {code: summarise(members, ranks, scores, pops, n)
                 for code, (_, members) in groups.items()}
    competition_rank(summaries, "average_score")
    competition_rank(summaries, "average_rank")
    log(f"N = {n}; {len(summaries)} {args.level} areas covering "
        f"{sum(len(m) for _, m in groups.values())} LSOAs")

    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    try:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(COLUMNS)
        for code in sorted(summaries):
            s = summaries[code]
            w.writerow([code, groups[code][0]] + [fmt(s[c]) for c in COLUMNS[2:]])
    finally:
        if args.out:
            out.close()


if __name__ == "__main__":
    main()
