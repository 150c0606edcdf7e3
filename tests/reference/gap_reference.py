#!/usr/bin/env python3
"""Independent reference implementation of the "ward gap versus authority" query.

Recomputes, for every ward of one local authority, an indicator value with its 95% and 99.8%
confidence intervals, the gap to the authority (area - benchmark, MOVER 95% interval), the
ratio, the Fingertips comparison, the rank within the authority and disclosure control --
straight from the raw published files in the shared data folder (never Renewal's warehouse).

Deliberately shares nothing with the Rust code: written from /work/shared/METHODS.md, Python
3.11 standard library only. Counts, values, gaps and ratios are computed exactly with
fractions.Fraction (only the final float is rounded); the confidence limits need sqrt and
root finding and are ordinary floats. The exact Poisson limits are found by bisection on the
Poisson distribution function itself (no chi-squared formula), the normal quantile by Acklam's
algorithm refined with Halley steps on math.erfc.

    python3 tests/reference/gap_reference.py crime --data /work/shared/data \
        --authority E08000016 [--crime-type "Burglary"]
    python3 tests/reference/gap_reference.py census-bad-health --data /work/shared/data \
        --authority E08000009
    python3 tests/reference/gap_reference.py --selftest

Output: CSV on stdout, header COLUMNS, one row per ward of the authority sorted by area_code.
Integers are printed as integers, other numbers with repr() of the float (full precision; the
comparing test rounds). Empty cell = missing or suppressed. Diagnostics go to stderr.
"""
import argparse
import csv
import io
import math
import os
import sys
from fractions import Fraction

COLUMNS = [
    "area_code", "area_name", "parent_code", "period", "numerator", "denominator", "value",
    "lower_95", "upper_95", "lower_998", "upper_998", "benchmark_value", "gap", "gap_lower_95",
    "gap_upper_95", "ratio", "comparison_95", "comparison_998", "rank_in_parent", "suppressed",
    "withheld",
]
SUPPRESS_BELOW = 5            # METHODS.md "Disclosure control": counts < 5 are suppressed
ALPHA_95, ALPHA_998 = 0.05, 0.002

CRIME = "crime/2021-01-south-yorkshire-street.csv"
POP = "imd/2019/File_6_-_IoD2019_Population_Denominators.csv"
WARD19 = "geography/Lower_Layer_Super_Output_Area_(2011)_to_Ward_(2019)_Lookup_in_England_and_Wales.csv"
CENSUS_HEALTH = "census/2021_general_health_lsoa_trafford.csv"
WARD22 = "geography/gm_lsoa21_to_ward22_best-fit_lookup.csv"

POP_LSOA = "LSOA code (2011)"
POP_TOTAL = "Total population: mid 2015 (excluding prisoners)"
HEALTH_CATEGORIES = ["Very good health", "Good health", "Fair health", "Bad health",
                     "Very bad health"]
HEALTH_BAD = {"Bad health", "Very bad health"}


def log(msg):
    print(msg, file=sys.stderr)


# --------------------------------------------------------------------------- statistics

def normal_quantile(p):
    """Standard normal quantile: Acklam's rational approximation (rel. error 1.15e-9),
    then Halley refinement steps against the exact CDF written with math.erfc."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01]
    c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00]
    p_low = 0.02425
    if p < p_low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    elif p <= 1 - p_low:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    else:
        q = math.sqrt(-2 * math.log(1 - p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    for _ in range(2):  # Halley: converges cubically; two steps reach double precision
        e = 0.5 * math.erfc(-x / math.sqrt(2)) - p
        u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
        x = x - u / (1 + x * u / 2)
    return x


def z_two_sided(alpha):
    return normal_quantile(1 - alpha / 2)


def wilson(x, n, z):
    """Wilson score interval for the proportion x/n (METHODS.md formula)."""
    x, n = float(x), float(n)
    centre = 2 * x + z * z
    half = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    den = 2 * (n + z * z)
    return (centre - half) / den, (centre + half) / den


def byar(x, z):
    """Byar's approximation to the Poisson limits of a count x (used for x >= 10)."""
    x = float(x)
    lower = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3
    y = x + 1
    upper = y * (1 - 1 / (9 * y) + z / (3 * math.sqrt(y))) ** 3
    return lower, upper


def _log_pmf(k, lam):
    return -lam + k * math.log(lam) - math.lgamma(k + 1)


def poisson_cdf(k, lam):
    """P(X <= k) for X ~ Poisson(lam), summed term by term (small k only)."""
    if lam == 0:
        return 1.0
    return math.fsum(math.exp(_log_pmf(j, lam)) for j in range(k + 1))


def poisson_sf(k, lam):
    """P(X >= k), summed directly over the upper tail (no 1 - cdf cancellation)."""
    if k <= 0:
        return 1.0
    if lam == 0:
        return 0.0
    terms, j = [], k
    while True:
        t = math.exp(_log_pmf(j, lam))
        terms.append(t)
        if j > lam and t <= 1e-20 * math.fsum(terms):  # terms now decrease; 0 if underflowed
            break
        j += 1
    return math.fsum(terms)


def _bisect_increasing(f, target):
    """lam with f(lam) = target, f increasing in lam >= 0, by bisection to float resolution."""
    lo, hi = 0.0, 1.0
    while f(hi) < target:
        lo, hi = hi, hi * 2
    for _ in range(2000):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def exact_poisson(x, alpha):
    """Exact (Garwood) limits for a Poisson count x: lower solves P(X >= x; lam) = alpha/2
    (0 when x = 0), upper solves P(X <= x; lam) = alpha/2."""
    x = int(x)
    half = alpha / 2
    lower = 0.0 if x == 0 else _bisect_increasing(lambda lam: poisson_sf(x, lam), half)
    # P(X <= x; lam) decreases in lam, so bisect on its complement 1 - alpha/2 via -cdf.
    upper = _bisect_increasing(lambda lam: -poisson_cdf(x, lam), -half)
    return lower, upper


def count_limits(x, alpha):
    """METHODS.md 'Rates and counts': Byar when x >= 10, exact Poisson when x < 10."""
    if x >= 10:
        return byar(x, z_two_sided(alpha))
    return exact_poisson(x, alpha)


def mover_difference(v1, l1, u1, v2, l2, u2):
    """MOVER interval (Newcombe 1998 method 10 / Zou & Donner 2008) for v1 - v2."""
    d = v1 - v2
    return (d - math.sqrt((v1 - l1) ** 2 + (u2 - v2) ** 2),
            d + math.sqrt((u1 - v1) ** 2 + (v2 - l2) ** 2))


def compare_lower_is_better(value, lower, upper, benchmark):
    """Fingertips rule, polarity 'lower is better'; the interval is inclusive."""
    if lower <= benchmark <= upper:
        return "similar"
    return "better" if value < benchmark else "worse"


def sql_rank_desc(values):
    """{key: rank}, 1 = highest value; ties share the lowest rank number (1, 2, 2, 4)."""
    ordered = sorted(values.values(), reverse=True)
    first = {}
    for place, v in enumerate(ordered, start=1):
        first.setdefault(v, place)
    return {k: first[v] for k, v in values.items()}


# --------------------------------------------------------------------------- input

def read_csv(data_dir, rel):
    path = os.path.join(data_dir, rel)
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8-sig")  # strips a BOM if present
    reader = csv.DictReader(io.StringIO(text, newline=""))  # CRLF and quoted fields
    rows = list(reader)
    return reader.fieldnames or [], rows, path


def need(fieldnames, path, *cols):
    missing = [c for c in cols if c not in fieldnames]
    if missing:
        sys.exit(f"{path}: missing column(s) {missing}; have {fieldnames}")


def count_value(cell, path):
    """A published count: '1,296' / '1296.00' / ' 1296 ' -> 1296; '' -> None."""
    t = (cell or "").strip().replace(",", "")
    if t == "":
        return None
    v = Fraction(t)
    if v.denominator != 1 or v < 0:
        sys.exit(f"{path}: not a count: {cell!r}")
    return int(v)


def load_crime(data_dir, crime_type):
    fields, rows, path = read_csv(data_dir, CRIME)
    need(fields, path, "Month", "LSOA code", "Crime type")
    types = sorted({r["Crime type"].strip() for r in rows})
    if crime_type is not None and crime_type not in types:
        sys.exit(f"{path}: crime type {crime_type!r} not in the file; types: {types}")
    months = sorted({r["Month"].strip() for r in rows})
    if months != ["2021-01"]:
        log(f"WARNING: {path}: months {months}, expected only 2021-01")
    counts, no_lsoa, other_type = {}, 0, 0
    for r in rows:
        lsoa = r["LSOA code"].strip()
        if not lsoa:
            no_lsoa += 1
            continue
        if crime_type is not None and r["Crime type"].strip() != crime_type:
            other_type += 1
            continue
        counts[lsoa] = counts.get(lsoa, 0) + 1
    log(f"crime: {len(rows)} rows; {no_lsoa} without LSOA code ignored; "
        + (f"{other_type} of other types skipped; " if crime_type else "")
        + f"{sum(counts.values())} counted in {len(counts)} LSOAs")
    return counts


def load_population(data_dir):
    fields, rows, path = read_csv(data_dir, POP)
    need(fields, path, POP_LSOA, POP_TOTAL)
    pops = {}
    for r in rows:
        code = r[POP_LSOA].strip()
        if code in pops:
            sys.exit(f"{path}: duplicate LSOA {code}")
        pops[code] = count_value(r[POP_TOTAL], path)
    log(f"File 6: {len(pops)} LSOA populations")
    return pops


def crime_areas(data_dir, authority):
    """(authority name, {ward: (name, [LSOA11])}, [authority LSOA11]) from the WD19 lookup."""
    fields, rows, path = read_csv(data_dir, WARD19)
    need(fields, path, "LSOA11CD", "WD19CD", "WD19NM", "LAD19CD", "LAD19NM")
    by_ward, ward_name, ward_lads, seen = {}, {}, {}, set()
    auth_lsoas, auth_name = [], None
    for r in rows:
        lsoa, ward, lad = r["LSOA11CD"].strip(), r["WD19CD"].strip(), r["LAD19CD"].strip()
        if lsoa in seen:
            sys.exit(f"{path}: LSOA {lsoa} appears twice")
        seen.add(lsoa)
        by_ward.setdefault(ward, []).append(lsoa)
        ward_name.setdefault(ward, r["WD19NM"].strip())
        ward_lads.setdefault(ward, set()).add(lad)
        if lad == authority:
            auth_lsoas.append(lsoa)
            auth_name = r["LAD19NM"].strip()
    wards = sorted(w for w, lads in ward_lads.items() if authority in lads)
    for w in wards:
        if len(ward_lads[w]) > 1:
            log(f"WARNING: ward {w} spans districts {sorted(ward_lads[w])}")
    return auth_name, {w: (ward_name[w], by_ward[w]) for w in wards}, auth_lsoas


def load_census_health(data_dir):
    fields, rows, path = read_csv(data_dir, CENSUS_HEALTH)
    need(fields, path, "area_code", "period", "general_health", "value")
    cells, periods = {}, set()
    for r in rows:
        code, cat = r["area_code"].strip(), r["general_health"].strip()
        if cat not in HEALTH_CATEGORIES:
            sys.exit(f"{path}: unknown general_health category {cat!r}")
        if (code, cat) in cells:
            sys.exit(f"{path}: duplicate {code} / {cat}")
        v = count_value(r["value"], path)
        if v is None:
            sys.exit(f"{path}: empty value for {code} / {cat}")
        cells[(code, cat)] = v
        periods.add(r["period"].strip())
    if periods != {"2021-03-21"}:
        log(f"WARNING: {path}: periods {sorted(periods)}, expected 2021-03-21")
    out = {}
    for code in sorted({c for c, _ in cells}):
        missing = [c for c in HEALTH_CATEGORIES if (code, c) not in cells]
        if missing:
            sys.exit(f"{path}: {code} lacks categories {missing}")
        x = sum(cells[(code, c)] for c in HEALTH_BAD)
        n = sum(cells[(code, c)] for c in HEALTH_CATEGORIES)
        out[code] = (x, n)
    log(f"census general health: {len(rows)} rows, {len(out)} LSOAs")
    return out


def census_areas(data_dir, authority, census):
    """(authority name, {ward: (name, [census LSOA21])}, [authority LSOA21]) from WD22 lookup,
    restricted to LSOAs present in the census file."""
    fields, rows, path = read_csv(data_dir, WARD22)
    need(fields, path, "lsoa21cd", "wd22cd", "wd22nm", "lad22cd", "lad22nm")
    lookup = {}
    for r in rows:
        lsoa = r["lsoa21cd"].strip()
        if lsoa in lookup:
            sys.exit(f"{path}: LSOA {lsoa} appears twice")
        lookup[lsoa] = (r["wd22cd"].strip(), r["wd22nm"].strip(), r["lad22cd"].strip(),
                        r["lad22nm"].strip())
    unmapped = sorted(set(census) - set(lookup))
    if unmapped:
        log(f"WARNING: {len(unmapped)} census LSOAs not in the ward lookup: {unmapped[:5]}")
    auth_lsoas = sorted(l for l in census if l in lookup and lookup[l][2] == authority)
    auth_name = lookup[auth_lsoas[0]][3] if auth_lsoas else None
    wards = {}
    for l in auth_lsoas:
        ward, name = lookup[l][0], lookup[l][1]
        wards.setdefault(ward, (name, []))[1].append(l)
    not_in_census = [l for l, v in lookup.items() if v[0] in wards and l not in census]
    if not_in_census:
        log(f"WARNING: {len(not_in_census)} lookup LSOAs of these wards are absent from the "
            f"census file and ignored: {not_in_census[:5]}")
    return auth_name, wards, auth_lsoas


# --------------------------------------------------------------------------- the query

def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, Fraction):
        return repr(float(v))
    if isinstance(v, float):
        return repr(v)
    return str(v)


def estimate(x, n, kind, multiplier):
    """value (Fraction) and the four limits (floats) for numerator x, denominator n."""
    value = Fraction(x) * multiplier / n
    limits = []
    for alpha in (ALPHA_95, ALPHA_998):
        if kind == "proportion":
            lo, hi = wilson(x, n, z_two_sided(alpha))
        else:
            lo, hi = count_limits(x, alpha)
            lo, hi = lo / n, hi / n
        limits += [lo * multiplier, hi * multiplier]
    return value, limits


def fnv1a(code):
    """The fixed order complementary cells are taken in (ARCHITECTURE.md, Disclosure control)."""
    h = 0xcbf29ce484222325
    for b in code.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    return h


def protection_groups(wards, num):
    """The authority's withheld LSOAs: ({LSOA: 'below-threshold' | 'complementary'},
    {LSOA: group id}). Primary: count < t. Each ward's primaries first take complements from
    the ward's other LSOAs in FNV-1a order of their codes, added while the group fails: with k
    complements, T - t*k >= t - 1; with none, p >= 2 primaries and t <= T <= (p-1)(t-1). Wards that cannot are pooled and topped
    up, in the same order, from the authority's LSOAs not yet withheld."""
    t = SUPPRESS_BELOW
    withheld, group_of, used = {}, {}, set()

    def protected(total, p, k):
        # every primary can be any of 0..t-1 given the total, primaries <= t-1, complements >= t
        if k == 0:
            return p >= 2 and t <= total <= (p - 1) * (t - 1)
        return total - t * k >= t - 1

    def settle(primaries, candidates):
        total = sum(num[l] for l in primaries)
        comps = []
        for l in sorted(candidates, key=lambda c: (fnv1a(c), c)):
            if protected(total, len(primaries), len(comps)):
                break
            total += num[l]
            comps.append(l)
        return comps if protected(total, len(primaries), len(comps)) else None

    pooled = []
    for code in sorted(wards):
        members = [m for m in wards[code][1] if num.get(m) is not None]
        primary = [m for m in members if num[m] < t]
        if not primary:
            continue
        comps = settle(primary, [m for m in members if num[m] >= t])
        if comps is None:
            pooled += primary
            continue
        for m in primary:
            withheld[m], group_of[m] = "below-threshold", code
        for m in comps:
            withheld[m], group_of[m] = "complementary", code
        used.update(primary + comps)
    if pooled:
        everyone = [m for w in wards.values() for m in w[1] if num.get(m) is not None]
        comps = settle(pooled, [m for m in everyone if m not in used and num[m] >= t])
        if comps is None:
            # The rule then pools authorities; this reference covers one authority only.
            raise SystemExit("authority cannot protect its own cells: out of scope")
        for m in pooled:
            withheld[m], group_of[m] = "below-threshold", "authority"
        for m in comps:
            withheld[m], group_of[m] = "complementary", "authority"
    log(f"protection: {sum(1 for v in withheld.values() if v == 'below-threshold')} LSOAs "
        f"below {t}, {sum(1 for v in withheld.values() if v == 'complementary')} complementary, "
        f"{len(pooled)} pooled in the authority")
    return withheld, group_of


def gap_table(authority, period, kind, multiplier, wards, auth_lsoas, num, den):
    """wards: {code: (name, [members])}; num/den: {LSOA: count or None}."""
    def total(table, members):
        vals = [table.get(m) for m in members]
        return None if any(v is None for v in vals) else sum(vals)

    withheld_lsoas, group_of = protection_groups(wards, num)
    group_size = {}
    for g in group_of.values():
        group_size[g] = group_size.get(g, 0) + 1

    ax, an = total(num, auth_lsoas), total(den, auth_lsoas)
    bench = None
    if ax is not None and an:
        if ax < SUPPRESS_BELOW:
            log(f"WARNING: authority numerator {ax} < {SUPPRESS_BELOW}: benchmark suppressed")
        else:
            bench = estimate(ax, an, kind, multiplier)
    log(f"authority {authority}: {len(auth_lsoas)} LSOAs, {len(wards)} wards, numerator {ax}, "
        f"denominator {an}, value {float(bench[0]) if bench else None!r}")

    rows, values = {}, {}
    for code in sorted(wards):
        name, members = wards[code]
        x, n = total(num, members), total(den, members)
        # A ward is released only if it holds each protection group whole or not at all.
        inside = {}
        for m in members:
            if m in group_of:
                inside[group_of[m]] = inside.get(group_of[m], 0) + 1
        # Splitting a group is "complementary" whatever the ward's own count (the flag must not
        # say whether a sum is small); otherwise a count below t is "below-threshold".
        withheld = None
        if x is not None and any(k != group_size[g] for g, k in inside.items()):
            withheld = "complementary"
        elif x is not None and x < SUPPRESS_BELOW:
            withheld = "below-threshold"
        suppressed = withheld is not None
        row = dict.fromkeys(COLUMNS)
        row.update(area_code=code, area_name=name, parent_code=authority, period=period,
                   numerator=None if suppressed else x, denominator=None if suppressed else n,
                   suppressed=suppressed, withheld=withheld)
        if x is None or not n:
            log(f"WARNING: ward {code}: numerator {x}, denominator {n}; values left empty")
        elif not suppressed:
            value, lim = estimate(x, n, kind, multiplier)
            values[code] = value
            row.update(value=value, lower_95=lim[0], upper_95=lim[1], lower_998=lim[2],
                       upper_998=lim[3])
            if bench is not None:
                bv, blim = bench
                fv, fb = float(value), float(bv)
                glo, ghi = mover_difference(fv, lim[0], lim[1], fb, blim[0], blim[1])
                row.update(gap=value - bv, gap_lower_95=glo, gap_upper_95=ghi,
                           ratio=value / bv if bv else None,
                           comparison_95=compare_lower_is_better(fv, lim[0], lim[1], fb),
                           comparison_998=compare_lower_is_better(fv, lim[2], lim[3], fb))
        if bench is not None:
            row["benchmark_value"] = bench[0]
        rows[code] = row
    for code, rank in sql_rank_desc(values).items():  # exact (Fraction) ties
        rows[code]["rank_in_parent"] = rank
    log(f"{len(rows)} wards, {sum(1 for r in rows.values() if r['suppressed'])} suppressed")
    return [rows[c] for c in sorted(rows)]


def run_crime(args):
    counts = load_crime(args.data, args.crime_type)
    pops = load_population(args.data)
    auth_name, wards, auth_lsoas = crime_areas(args.data, args.authority)
    if not auth_lsoas:
        sys.exit(f"authority {args.authority} not in the ward lookup")
    log(f"{args.authority} {auth_name}")
    in_auth = set(auth_lsoas)
    outside = sum(v for l, v in counts.items() if l not in in_auth)
    log(f"crimes in LSOAs outside {args.authority}: {outside}")
    num = {l: counts.get(l, 0) for w in wards.values() for l in w[1]}  # no rows -> 0 crimes
    num.update({l: counts.get(l, 0) for l in auth_lsoas})
    return gap_table(args.authority, "2021-01", "rate", 1000, wards, auth_lsoas, num, pops)


def run_census(args):
    census = load_census_health(args.data)
    auth_name, wards, auth_lsoas = census_areas(args.data, args.authority, census)
    if not auth_lsoas:
        sys.exit(f"authority {args.authority}: no census LSOAs map to it")
    log(f"{args.authority} {auth_name}")
    num = {l: x for l, (x, _) in census.items()}
    den = {l: n for l, (_, n) in census.items()}
    return gap_table(args.authority, "2021-03-21", "proportion", 100, wards, auth_lsoas, num,
                     den)


# --------------------------------------------------------------------------- self test

def selftest():
    failures = []

    def check(label, got, want, tol):
        ok = abs(got - want) <= tol
        print(f"{'ok  ' if ok else 'FAIL'} {label}: got {got!r}, want {want} +/- {tol}")
        if not ok:
            failures.append(label)

    z95, z998 = z_two_sided(ALPHA_95), z_two_sided(ALPHA_998)
    check("z(0.975)", z95, 1.959963985, 5e-10)
    check("z(0.999)", z998, 3.090232306, 5e-10)
    for p in (1e-10, 0.001, 0.02, 0.3, 0.5, 0.9, 0.99999):  # round trip through erfc
        check(f"Phi(z({p}))", 0.5 * math.erfc(-normal_quantile(p) / math.sqrt(2)), p, 1e-15 + p * 1e-13)

    # Newcombe (1998) Table I, method 3 (Wilson score, no continuity correction), 95%.
    for x, n, lo, hi in ((81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605),
                         (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)):
        l, u = wilson(x, n, z95)
        check(f"Wilson {x}/{n} lower", l, lo, 5e-5)
        check(f"Wilson {x}/{n} upper", u, hi, 5e-5)

    # Exact Poisson 95% limits as published (e.g. Fingertips / APHO tables).
    for x, lo, lo_tol, hi, hi_tol in ((0, 0.0, 0.0, 3.689, 5e-4), (1, 0.0253, 5e-5, 5.572, 5e-4),
                                      (5, 1.6235, 5e-5, 11.668, 5e-4),
                                      (9, 4.115, 5e-4, 17.08, 5e-3)):
        l, u = exact_poisson(x, ALPHA_95)
        check(f"exact Poisson x={x} lower", l, lo, lo_tol)
        check(f"exact Poisson x={x} upper", u, hi, hi_tol)
    # The limits solve their defining equations (both levels).
    for alpha in (ALPHA_95, ALPHA_998):
        for x in range(0, 10):
            l, u = exact_poisson(x, alpha)
            if x:
                check(f"P(X>={x}; L) alpha={alpha}", poisson_sf(x, l), alpha / 2, alpha * 1e-12)
            check(f"P(X<={x}; U) alpha={alpha}", poisson_cdf(x, u), alpha / 2, alpha * 1e-12)
    # Byar for x >= 10 agrees with the exact limits within a few per cent.
    worst = 0.0
    for alpha in (ALPHA_95, ALPHA_998):
        for x in list(range(10, 101)) + [250, 1000]:
            el, eu = exact_poisson(x, alpha)
            bl, bu = byar(x, z_two_sided(alpha))
            worst = max(worst, abs(bl / el - 1), abs(bu / eu - 1))
    check("Byar vs exact, max relative difference, x=10..1000", worst, 0.0, 0.03)
    check("count_limits(10) is Byar", count_limits(10, ALPHA_95)[0], byar(10, z95)[0], 0.0)
    check("count_limits(9) is exact", count_limits(9, ALPHA_95)[0], exact_poisson(9, ALPHA_95)[0], 0.0)

    # MOVER with a zero-width benchmark interval is the ward's interval shifted by -benchmark.
    lo, hi = mover_difference(10.0, 7.0, 14.0, 8.0, 8.0, 8.0)
    check("MOVER lower, exact benchmark", lo, -1.0, 1e-12)
    check("MOVER upper, exact benchmark", hi, 6.0, 1e-12)
    lo, hi = mover_difference(10.0, 7.0, 14.0, 8.0, 6.0, 11.0)
    check("MOVER lower", lo, 2.0 - math.sqrt(3 ** 2 + 3 ** 2), 1e-12)  # v1-l1, u2-v2
    check("MOVER upper", hi, 2.0 + math.sqrt(4 ** 2 + 2 ** 2), 1e-12)  # u1-v1, v2-l2
    cases = ((5.0, 4.0, 6.0, 6.0, "similar"), (5.0, 4.0, 6.0, 4.0, "similar"),
             (5.0, 4.0, 6.0, 7.0, "better"), (5.0, 4.0, 6.0, 3.0, "worse"))
    for v, l, u, b, want in cases:
        got = compare_lower_is_better(v, l, u, b)
        ok = got == want
        print(f"{'ok  ' if ok else 'FAIL'} compare {v} in [{l},{u}] vs {b}: {got}, want {want}")
        if not ok:
            failures.append(f"compare {v},{b}")
    ranks = sql_rank_desc({"a": Fraction(3), "b": Fraction(5), "c": Fraction(3), "d": Fraction(1)})
    ok = ranks == {"b": 1, "a": 2, "c": 2, "d": 4}
    print(f"{'ok  ' if ok else 'FAIL'} SQL RANK ties: {ranks}")
    if not ok:
        failures.append("rank")
    ok = count_value("1,296", "t") == 1296 and count_value("1296.00", "t") == 1296
    print(f"{'ok  ' if ok else 'FAIL'} count parsing '1,296' and '1296.00'")
    if not ok:
        failures.append("count parsing")

    print(f"selftest: {'FAILED ' + str(failures) if failures else 'all passed'}")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description="Reference 'ward gap versus authority' (stdlib only).")
    ap.add_argument("--selftest", action="store_true",
                    help="check the statistical functions against published values and exit")
    sub = ap.add_subparsers(dest="indicator")
    for name, helptext in (("crime", "street crime per 1,000 residents, January 2021"),
                           ("census-bad-health", "% in bad or very bad health, Census 2021")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--data", required=True, help="the shared data folder")
        p.add_argument("--authority", required=True, help="LAD code, e.g. E08000016")
        if name == "crime":
            p.add_argument("--crime-type", help='one police.uk "Crime type", e.g. "Burglary"')
    args = ap.parse_args()
    if args.selftest:
        sys.exit(selftest())
    if args.indicator is None:
        ap.error("give an indicator (crime | census-bad-health) or --selftest")
    if not os.path.isdir(args.data):
        sys.exit(f"data folder {args.data} not found")
    rows = run_crime(args) if args.indicator == "crime" else run_census(args)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([fmt(r[c]) for c in COLUMNS])


if __name__ == "__main__":
    main()
