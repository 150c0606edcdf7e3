"""The ward gap question in DuckDB, in process, on the warehouse's own Parquet files.

Computes, for one indicator and period, every ward's value with Wilson (proportions) or Byar
(rates) 95% and 99.8% intervals, its authority's value, the gap with its MOVER interval, the
ratio, the Fingertips comparison at both levels and the rank in the authority, as
`renewal gap` defines them (../shared/METHODS.md), then:
  --check FILE   compares with Renewal's `gap --format json` answer, column by column, to 1e-9
  --runs N       times N executions: the first on a fresh connection (cold), the rest warm
Prints one JSON object. Usage (see query.sh):
  python duckdb_gap.py WAREHOUSE INDICATOR PERIOD [--authority E0...] [--runs N] [--check FILE]
"""
import argparse
import glob
import json
import math
import sys
import time

import duckdb

Z95 = 1.959963984540054
Z998 = 3.090232306167813


def one_dir(warehouse, dataset_glob, table):
    dirs = sorted(glob.glob(f"{warehouse}/{dataset_glob}/data/*/{table}"))
    if len(dirs) != 1:
        sys.exit(f"expected one version of {dataset_glob}/{table}, found {dirs}")
    return f"{dirs[0]}/*.parquet"


# Per-LSOA numerator and denominator of each indicator, as its data-schemas/indicators file says.
def lsoa_sql(warehouse, indicator, period):
    iod = one_dir(warehouse, "iod-2019", "iod")
    if indicator == "claimant-rate":
        obs = one_dir(warehouse, "benefits-*claimant-count*", "observations")
        return f"""
          SELECT o.area_code AS lsoa, SUM(o.value) AS x, ANY_VALUE(d.value) AS n
          FROM read_parquet('{obs}') o
          JOIN read_parquet('{iod}') d ON d.lsoa_code = o.area_code
           AND d.domain = 'population_working_age' AND d.measure = 'denominator'
          WHERE o.measure = 'count' AND o.period = '{period}'
          GROUP BY o.area_code""", "proportion", 100.0
    if indicator == "crime-all":
        counts = one_dir(warehouse, "crime-*", "lsoa_monthly_counts")
        # An LSOA with no crime counts as zero within the authorities the files cover.
        return f"""
          WITH c AS (SELECT lsoa_code, SUM(crimes)::DOUBLE AS x FROM read_parquet('{counts}')
                     WHERE crime_type IS NOT NULL AND month = '{period}' GROUP BY lsoa_code),
               covered AS (SELECT DISTINCT l.lad_code FROM c JOIN lk l ON l.lsoa_code = c.lsoa_code)
          SELECT d.lsoa_code AS lsoa, COALESCE(c.x, 0) AS x, d.value AS n
          FROM read_parquet('{iod}') d
          JOIN lk l ON l.lsoa_code = d.lsoa_code JOIN covered v ON v.lad_code = l.lad_code
          LEFT JOIN c ON c.lsoa_code = d.lsoa_code
          WHERE d.domain = 'population_total' AND d.measure = 'denominator'""", "rate", 1000.0
    sys.exit(f"no DuckDB definition for {indicator}")


def interval_sql(kind, x, n, z, mult):
    if kind == "proportion":
        # Wilson, clamped to 0..1 as renewal-stats does.
        root = f"({z} * sqrt({z}*{z} + 4*{x}*(1 - {x}/{n})))"
        den = f"(2*({n} + {z}*{z}))"
        lo = f"greatest((2*{x} + {z}*{z} - {root}) / {den}, 0) * {mult}"
        hi = f"least((2*{x} + {z}*{z} + {root}) / {den}, 1) * {mult}"
        return lo, hi
    # Byar (x >= 10 everywhere at ward and authority level here: checked below).
    lo = f"(CASE WHEN {x} > 0 THEN {x} * pow(1 - 1/(9*{x}) - {z}/(3*sqrt({x})), 3) ELSE 0 END) / {n} * {mult}"
    hi = f"(({x}+1) * pow(1 - 1/(9*({x}+1)) + {z}/(3*sqrt({x}+1)), 3)) / {n} * {mult}"
    return lo, hi


def gap_sql(warehouse, indicator, period, authority):
    lk = one_dir(warehouse, "lookup-lsoa11-wd19", "lookup")
    lsoa, kind, mult = lsoa_sql(warehouse, indicator, period)
    parts = {}
    for side, (x, n) in {"a": ("w.x", "w.n"), "b": ("p.x", "p.n")}.items():
        for name, z in (("95", Z95), ("998", Z998)):
            parts[f"{side}lo{name}"], parts[f"{side}hi{name}"] = interval_sql(kind, x, n, z, mult)
    where = f"WHERE w.lad = '{authority}'" if authority else ""
    return f"""
    WITH lk AS (SELECT lsoa_code, ward_code, lad_code FROM read_parquet('{lk}')),
    ls AS ({lsoa}),
    w AS (SELECT lk.ward_code AS ward, lk.lad_code AS lad, SUM(ls.x) AS x, SUM(ls.n) AS n
          FROM ls JOIN lk ON lk.lsoa_code = ls.lsoa GROUP BY 1, 2),
    p AS (SELECT lad, SUM(x) AS x, SUM(n) AS n FROM w GROUP BY lad),
    r AS (
      SELECT w.ward AS area_code, w.lad AS parent_code, w.x AS numerator, w.n AS denominator,
        w.x / w.n * {mult} AS value,
        {parts['alo95']} AS lower_95, {parts['ahi95']} AS upper_95,
        {parts['alo998']} AS lower_998, {parts['ahi998']} AS upper_998,
        p.x / p.n * {mult} AS benchmark_value,
        {parts['blo95']} AS b_lower_95, {parts['bhi95']} AS b_upper_95,
        least(w.x, p.x) AS min_x
      FROM w JOIN p ON p.lad = w.lad {where})
    SELECT area_code, parent_code, numerator, denominator, value, lower_95, upper_95,
      lower_998, upper_998, benchmark_value,
      value - benchmark_value AS gap,
      value - benchmark_value - sqrt(pow(value - lower_95, 2) + pow(b_upper_95 - benchmark_value, 2)) AS gap_lower_95,
      value - benchmark_value + sqrt(pow(upper_95 - value, 2) + pow(benchmark_value - b_lower_95, 2)) AS gap_upper_95,
      value / benchmark_value AS ratio,
      CASE WHEN benchmark_value BETWEEN lower_95 AND upper_95 THEN 'similar'
           WHEN value > benchmark_value THEN 'worse' ELSE 'better' END AS comparison_95,
      CASE WHEN benchmark_value BETWEEN lower_998 AND upper_998 THEN 'similar'
           WHEN value > benchmark_value THEN 'worse' ELSE 'better' END AS comparison_998,
      rank() OVER (PARTITION BY parent_code ORDER BY value DESC) AS rank_in_parent,
      min_x
    FROM r ORDER BY area_code"""


NUMERIC = ["numerator", "denominator", "value", "lower_95", "upper_95", "lower_998",
           "upper_998", "benchmark_value", "gap", "gap_lower_95", "gap_upper_95", "ratio"]
TEXT = ["parent_code", "comparison_95", "comparison_998"]


def run(con, sql):
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def check(rows, renewal_json, kind):
    with open(renewal_json) as f:
        theirs = {r["area_code"]: r for r in json.load(f)["rows"]}
    ours = {r["area_code"]: r for r in rows}
    if set(ours) != set(theirs):
        sys.exit(f"different areas: {len(ours)} DuckDB vs {len(theirs)} Renewal; "
                 f"only DuckDB {sorted(set(ours) - set(theirs))[:5]}, "
                 f"only Renewal {sorted(set(theirs) - set(ours))[:5]}")
    worst = 0.0
    compared = 0
    for code, o in ours.items():
        t = theirs[code]
        if kind == "rate" and o["min_x"] < 10:
            sys.exit(f"{code}: fewer than 10 events, Byar does not apply (exact Poisson needed)")
        if t.get("withheld") or t.get("suppressed"):
            continue
        for c in NUMERIC:
            a, b = float(o[c]), t[c]
            if b is None:
                sys.exit(f"{code} {c}: Renewal null, DuckDB {a}")
            diff = abs(a - b) / max(1.0, abs(b))
            worst = max(worst, diff)
            if diff > 1e-9:
                sys.exit(f"{code} {c}: DuckDB {a!r} vs Renewal {b!r}")
        for c in TEXT:
            if str(o[c]) != str(t[c]):
                sys.exit(f"{code} {c}: DuckDB {o[c]!r} vs Renewal {t[c]!r}")
        if int(o["rank_in_parent"]) != int(t["rank_in_parent"]):
            sys.exit(f"{code} rank_in_parent: DuckDB {o['rank_in_parent']} vs Renewal {t['rank_in_parent']}")
        compared += 1
    return compared, worst


def pct(v, q):
    v = sorted(v)
    return v[max(1, math.ceil(q * len(v))) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("warehouse")
    ap.add_argument("indicator")
    ap.add_argument("period")
    ap.add_argument("--authority", default="")
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--check")
    a = ap.parse_args()
    kind = "proportion" if a.indicator == "claimant-rate" else "rate"
    sql = gap_sql(a.warehouse, a.indicator, a.period, a.authority)
    out = {"indicator": a.indicator, "period": a.period, "authority": a.authority or "England"}
    con = duckdb.connect()
    t = time.perf_counter()
    rows = run(con, sql)
    cold = (time.perf_counter() - t) * 1000
    out["rows"] = len(rows)
    if a.check:
        out["compared_rows"], out["max_relative_difference"] = check(rows, a.check, kind)
    if a.runs:
        warm = []
        for _ in range(a.runs):
            t = time.perf_counter()
            run(con, sql)
            warm.append((time.perf_counter() - t) * 1000)
        out.update(cold_ms=cold, warm_p50_ms=pct(warm, 0.5), warm_p99_ms=pct(warm, 0.99),
                   warm_runs=len(warm))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
