#!/usr/bin/env python3
"""Independent reference implementation of the IoD area summaries (METHODS.md, "IoD summaries").

Deliberately shares nothing with the Rust code: it reads the raw published files itself
(UTF-8 BOM, CRLF, gzip, quoted fields, thousands separators, "1296.00"), uses only the
Python 3.11 standard library, and does all arithmetic exactly with fractions.Fraction, so
the only rounding is the final conversion of each result to the nearest float.

    python3 tests/reference/iod_summaries.py --level lad --vintage 2019 \
        --data-dir /work/shared/data [--out FILE] [--population-from-2019] [--domain D]
    python3 tests/reference/iod_summaries.py --level ward --vintage 2025 --data-dir ... [--domain D]

Output: CSV, one row per area sorted by area_code, header COLUMNS below (with --domain D,
COLUMNS + DOMAIN_COLUMNS: the figures File 10 publishes on D's sheet). Integral values are
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
DOMAIN_COLUMNS = [
    "rank_of_proportion_most_deprived_10pct", "rank_of_extent",
    "rank_of_local_concentration", "scale", "rank_of_scale",
]
EXPECTED_N = 32844
# IoD2025 ranks are out of every English LSOA of 2021 (the edition's technical notes); the
# shared 2025 files hold Greater Manchester only, so N cannot be counted from them.
N_2025 = 33755
DOMAINS = ["imd", "income", "employment", "education", "health", "crime", "barriers",
           "living_environment", "idaci", "idaopi"]
# How the official files name each domain in their headers ("<label> Rank (where 1 ...)").
LABEL = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "barriers": "Barriers to Housing and Services",
    "living_environment": "Living Environment",
    "idaci": "Income Deprivation Affecting Children Index (IDACI)",
    "idaopi": "Income Deprivation Affecting Older People (IDAOPI)",
}
RATE_DOMAINS = {"income", "employment", "idaci", "idaopi"}  # "<label> Score (rate)"

F2_2019 = "imd/2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
F6_2019 = "imd/2019/File_6_-_IoD2019_Population_Denominators.csv"
UK_IMD = "imd/2019/UK_IMD_E.csv"
IMD_2015 = "imd/2015/imd2015_lsoa11_england.csv"
WARD_LOOKUP = "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"
F2_2025 = "imd/2025/File_2_-_IoD2025_Domains_of_Deprivation_Greater_Manchester.csv"
F5_2025 = "imd/2025/File_5_-_IoD2025_Scores_Greater_Manchester.csv"
WARD_LOOKUP_2025 = "geography/LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024)_Best_Fit_Lookup_in_EW.csv"
LSOA_2025 = "LSOA code (2021)"
LAD_CODE_2025 = "Local Authority District code (2024)"
LAD_NAME_2025 = "Local Authority District name (2024)"
POP_2025 = "Total population: mid 2022 (excluding prisoners)"
WORKING_2025 = ("Working age population 18-66: for use with Employment Deprivation Domain "
                "(excluding prisoners)")
WORKING_2019 = ("Working age population 18-59/64: for use with Employment Deprivation Domain "
                "(excluding prisoners)")

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


def rank_header(domain):
    return f"{LABEL[domain]} Rank (where 1 is most deprived)"


def score_header(domain):
    return f"{LABEL[domain]} Score" + (" (rate)" if domain in RATE_DOMAINS else "")


def put(table, key, value, path):
    if key in table:
        sys.exit(f"{path}: duplicate LSOA {key}")
    table[key] = value


def load_2019(data_dir, domain):
    """Ranks of `domain` from File 2; scores from UK_IMD_E (the IMD score, and the income and
    employment rates in percent, which are the official 3-decimal rates times 100 with float
    noise: divided by 100 and rounded back to 3 decimals); populations from File 6."""
    ranks, areas, scores = {}, {}, {}
    fields, rows, path = read_csv(data_dir, F2_2019)
    rank_col = rank_header(domain)
    need(fields, path, LSOA_2019, LAD_CODE_2019, LAD_NAME_2019)
    for r in rows:
        code = r[LSOA_2019].strip()
        put(ranks, code, rank_value(r[rank_col]) if rank_col in fields else None, path)
        areas[code] = (r[LAD_CODE_2019].strip(), r[LAD_NAME_2019].strip())
    log(f"File 2: {len(rows)} LSOAs; {domain} rank column present: {rank_col in fields}")

    fields, rows, path = read_csv(data_dir, UK_IMD)
    need(fields, path, "nation", "lsoa", "overall_local_score")
    column = {"imd": "overall_local_score", "income": "income_score",
              "employment": "employment_score"}.get(domain)
    for r in rows:
        if column and r["nation"].strip() == "E":
            v = number(r[column])
            if v is not None and domain != "imd":
                v = round(v / 100, 3)
            put(scores, r["lsoa"].strip(), v, path)
    log(f"UK_IMD_E: {len(scores)} English LSOA {domain} scores (of {len(rows)} UK rows)")

    pops = load_pop_2019(data_dir)
    working = load_pop_2019(data_dir, WORKING_2019)
    return ranks, areas, scores, pops, working


def load_pop_2019(data_dir, column=POP_2019):
    pops = {}
    fields, rows, path = read_csv(data_dir, F6_2019)
    need(fields, path, LSOA_2019, column)
    for r in rows:
        put(pops, r[LSOA_2019].strip(), number(r[column]), path)
    log(f"File 6: {len(pops)} LSOA populations ({column[:30]}...)")
    return pops


def load_2025(data_dir, domain):
    """Greater Manchester only: ranks from File 2, scores from File 5. No File 6 is shared for
    2025; if one is there (imd/2025/File_6_*.csv) its mid-2022 populations are used."""
    ranks, areas, scores, pops, working = {}, {}, {}, {}, {}
    fields, rows, path = read_csv(data_dir, F2_2025)
    need(fields, path, LSOA_2025, LAD_CODE_2025, LAD_NAME_2025)
    rank_col = rank_header(domain)
    for r in rows:
        code = r[LSOA_2025].strip()
        put(ranks, code, rank_value(r[rank_col]) if rank_col in fields else None, path)
        areas[code] = (r[LAD_CODE_2025].strip(), r[LAD_NAME_2025].strip())
    log(f"File 2 (2025): {len(rows)} LSOAs; {domain} rank column present: {rank_col in fields}")
    fields, rows, path = read_csv(data_dir, F5_2025)
    need(fields, path, LSOA_2025)
    col = score_header(domain)
    for r in rows:
        put(scores, r[LSOA_2025].strip(), number(r[col]) if col in fields else None, path)
    log(f"File 5 (2025): {len(rows)} LSOAs; {col!r} present: {col in fields}")
    folder = os.path.join(data_dir, "imd/2025")
    for name in sorted(os.listdir(folder)):
        if name.startswith("File_6_") and name.endswith(".csv"):
            fields, rows, path = read_csv(data_dir, "imd/2025/" + name)
            need(fields, path, LSOA_2025, POP_2025, WORKING_2025)
            for r in rows:
                put(pops, r[LSOA_2025].strip(), number(r[POP_2025]), path)
                put(working, r[LSOA_2025].strip(), number(r[WORKING_2025]), path)
            log(f"{name}: {len(pops)} LSOA populations")
    if not pops:
        log("IoD2025: no File 6, so no populations: population-weighted figures are empty")
    return ranks, areas, scores, pops, working


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
    return ranks, areas, scores, pops, {}


def ward_groups(data_dir, ranks, lookup=WARD_LOOKUP, lsoa_col="LSOA11CD", ward="WD19"):
    """WD..CD -> (name, [LSOAs]) for LSOAs in the IoD data; wards with none are dropped."""
    fields, rows, path = read_csv(data_dir, lookup)
    code_col, name_col = ward + "CD", ward + "NM"
    need(fields, path, lsoa_col, code_col, name_col)
    groups, names, seen, skipped = {}, {}, set(), 0
    all_wards = set()
    for r in rows:
        lsoa, ward = r[lsoa_col].strip(), r[code_col].strip()
        all_wards.add(ward)
        if lsoa in seen:
            sys.exit(f"{path}: LSOA {lsoa} appears twice")
        seen.add(lsoa)
        if lsoa not in ranks:
            skipped += 1
            continue
        groups.setdefault(ward, []).append(lsoa)
        names[ward] = r[name_col].strip()
    unmapped = sorted(set(ranks) - seen)
    log(f"ward lookup: {len(rows)} rows, {len(all_wards)} wards; {skipped} LSOAs not in the IoD "
        f"data (Welsh, or outside the loaded area) skipped; {len(unmapped)} IoD LSOAs missing from lookup {unmapped[:5]}")
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


def summarise(members, ranks, scores, pops, n, domain="imd", working=None):
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
    if domain != "imd":
        # File 10 publishes extent and local concentration on the IMD sheet only.
        out["extent"] = out["local_concentration"] = None

    # Scale: the number of deprived people. A domain rate is its numerator over a population
    # (income: total population; employment: working-age population), so the numerator of each
    # LSOA is rate x that population, and the area's scale is their sum.
    base = {"income": pops, "employment": working or {}}.get(domain)
    out["scale"] = None
    if base is not None:
        bb = [base.get(m) for m in members]
        if all(b is not None for b in bb) and all(s is not None for s in sc):
            out["scale"] = sum(b * s for b, s in zip(bb, sc))
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
    ap.add_argument("--vintage", choices=["2025", "2019", "2015"], required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--domain", choices=DOMAINS,
                    help="one domain's File 10 figures, with the DOMAIN_COLUMNS added")
    ap.add_argument("--out", help="write CSV here instead of stdout")
    ap.add_argument("--population-from-2019", action="store_true",
                    help="2015 only: weight by IoD2019 File 6 mid-2015 population "
                         "(official IoD2015 used mid-2012, which we do not have)")
    args = ap.parse_args()
    domain = args.domain or "imd"
    if args.vintage == "2015" and domain != "imd":
        sys.exit("2015: only the IMD is in the shared file")

    if args.vintage == "2025":
        ranks, lads, scores, pops, working = load_2025(args.data_dir, domain)
        n = N_2025
    elif args.vintage == "2019":
        ranks, lads, scores, pops, working = load_2019(args.data_dir, domain)
        n = len(ranks)  # N = English LSOAs in the IoD file
    else:
        ranks, lads, scores, pops, working = load_2015(args.data_dir, args.population_from_2019)
        n = len(ranks)

    if args.vintage != "2025" and n != EXPECTED_N:
        log(f"WARNING: N = {n}, expected {EXPECTED_N}")
    for label, table in (("score", scores), ("population", pops)):
        if table or label == "score":
            miss = set(ranks) - set(table)
            extra = set(table) - set(ranks)
            log(f"{label}: {len(miss)} IoD LSOAs without a value, {len(extra)} extra LSOAs ignored")
    # Published ranks are 1..N with a few exact ties ranked 1,2,2,4 (2019: 26 pairs, 2015: 20);
    # ties are harmless here (tied LSOAs have the same N + 1 - r), so only report them.
    present = [r for r in ranks.values() if r is not None]
    if present:
        log(f"ranks: min {min(present)}, max {max(present)}, "
            f"{len(present) - len(set(present))} tied duplicates")
        if max(present) > n:
            sys.exit(f"rank {max(present)} exceeds N = {n}")

    if args.level == "lad":
        groups = {}
        for lsoa, (code, name) in lads.items():
            g = groups.setdefault(code, (name, []))
            if g[0] != name:
                log(f"WARNING: {code} has names {g[0]!r} and {name!r}")
            g[1].append(lsoa)
    elif args.vintage == "2025":
        groups = ward_groups(args.data_dir, ranks, WARD_LOOKUP_2025, "LSOA21CD", "WD24")
    else:
        groups = ward_groups(args.data_dir, ranks)

    summaries = {code: summarise(members, ranks, scores, pops, n, domain, working)
                 for code, (_, members) in groups.items()}
    # Areas are ranked among every area of England. With fewer LSOAs than the edition ranks
    # (2025 here: Greater Manchester only) a rank among the loaded areas would not be the
    # published one, so every rank column stays empty.
    complete = len(ranks) >= n
    ranked = ["average_score", "average_rank"]
    if args.domain:
        ranked += ["proportion_most_deprived_10pct", "extent", "local_concentration", "scale"]
    for key in ranked:
        if complete:
            competition_rank(summaries, key)
        else:
            for s in summaries.values():
                s["rank_of_" + key] = None
    if not complete:
        log(f"only {len(ranks)} of the {n} LSOAs: no area ranks")
    log(f"N = {n}; {len(summaries)} {args.level} areas covering "
        f"{sum(len(m) for _, m in groups.values())} LSOAs; domain {domain}")

    columns = COLUMNS + (DOMAIN_COLUMNS if args.domain else [])
    out = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
    try:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        for code in sorted(summaries):
            s = summaries[code]
            w.writerow([code, groups[code][0]] + [fmt(s[c]) for c in columns[2:]])
    finally:
        if args.out:
            out.close()


if __name__ == "__main__":
    main()
