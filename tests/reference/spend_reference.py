#!/usr/bin/env python3
"""Independent reference for the spend-by-place questions (issue 16).

Given a body's payments, its supplier register, a postcode directory and IMD ranks, all as
plain CSV in the columns of the issue 16 table contract, recomputes for one financial year:
where the money was matched (company number where payment and register both have one, else
normalised name, unless both give numbers that differ; never a redacted payee) and located, spend by the supplier's district (inside / outside
the body's own), by the national IMD decile of the supplier's LSOA and by its local decile
(the body's own district's LSOAs ranked among themselves, ceil(10 r / n)), and the shares in
the most deprived 10% and 20% nationally and locally.

Written from the brief, not from the Rust: Python 3 standard library only, integer pence,
exact fractions for deciles. It never reads Renewal's warehouse.

    python3 tests/reference/spend_reference.py --payments payments.csv --suppliers suppliers.csv \
        --postcodes postcodes.csv --iod iod.csv --national 32844 --period 2021-22 \
        [--lsoa-column lsoa11]

Inputs (header row, any column order, extra columns ignored):
  payments.csv   financial_year, body_area, net_pence, supplier_key, company_number, payee
  suppliers.csv  supplier_key, company_number, postcode          (file order: first one wins)
  postcodes.csv  postcode, lad_code, <lsoa column>, is_terminated (true/false)
  iod.csv        lsoa_code, lad_code, rank                       (IMD rank, 1 = most deprived)

Output: CSV `measure,group,net_pence` on stdout, sorted, one line per figure:
  total,,T; matched,number|name|none,P; located,located|no_match|no_postcode|not_in_directory,P;
  terminated,,P; district,<code>|not_located|no_district,P (and inside|outside);
  decile,1..10|no_lsoa|not_in_edition|not_located,P; local,1..10|outside|no_lsoa|not_located,P;
  most_deprived,national_10|national_20|local_10|local_20,P.
"""
import argparse
import csv
import sys
from collections import defaultdict
from fractions import Fraction


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def blank(v):
    return v is None or v.strip() == ""


def is_lsoa(code):
    return (
        code is not None
        and len(code) == 9
        and code[:3] in ("E01", "W01")
        and code[3:].isdigit()
    )


def ceil_fraction(q):
    n, d = q.numerator, q.denominator
    return -((-n) // d)


def main():
    ap = argparse.ArgumentParser()
    for a in ("--payments", "--suppliers", "--postcodes", "--iod", "--period"):
        ap.add_argument(a, required=True)
    ap.add_argument("--national", type=int, required=True)
    ap.add_argument("--lsoa-column", default="lsoa11")
    args = ap.parse_args()

    register = read(args.suppliers)
    first_number, first_key = {}, {}
    for i, s in enumerate(register):
        if not blank(s["company_number"]) and s["company_number"] not in first_number:
            first_number[s["company_number"]] = i
        if s["supplier_key"] not in first_key:
            first_key[s["supplier_key"]] = i

    directory = {}
    for p in read(args.postcodes):
        directory.setdefault(p["postcode"], p)

    ranks, district_of = {}, {}
    for r in read(args.iod):
        ranks[r["lsoa_code"]] = Fraction(r["rank"])
        district_of[r["lsoa_code"]] = r["lad_code"]

    def national_decile(lsoa):
        return ceil_fraction(10 * ranks[lsoa] / args.national)

    local_cache = {}

    def local_decile(area, lsoa):
        if area not in local_cache:
            own = sorted(
                (rank, code) for code, rank in ranks.items() if district_of[code] == area
            )
            n = len(own)
            local_cache[area] = {
                code: ceil_fraction(Fraction(10 * (i + 1), n)) for i, (_, code) in enumerate(own)
            }
        return local_cache[area].get(lsoa)

    out = defaultdict(int)
    for p in read(args.payments):
        if p["financial_year"] != args.period:
            continue
        pence = int(p["net_pence"])
        out[("total", "")] += pence
        supplier = None
        if p["payee"] != "redacted":
            if not blank(p["company_number"]) and p["company_number"] in first_number:
                supplier = register[first_number[p["company_number"]]]
                out[("matched", "number")] += pence
            elif p["supplier_key"] in first_key:
                candidate = register[first_key[p["supplier_key"]]]
                # Both have a company number and they differ: another company of that name.
                if blank(p["company_number"]) or blank(candidate["company_number"]):
                    supplier = candidate
                    out[("matched", "name")] += pence
        if supplier is None:
            out[("matched", "none")] += pence
            status = "no_match"
        elif blank(supplier["postcode"]):
            status = "no_postcode"
        elif supplier["postcode"] not in directory:
            status = "not_in_directory"
        else:
            status = "located"
        out[("located", status)] += pence
        if status != "located":
            for m in ("district", "decile", "local"):
                out[(m, "not_located")] += pence
            continue
        place = directory[supplier["postcode"]]
        if place["is_terminated"] == "true":
            out[("terminated", "")] += pence
        lad = place["lad_code"]
        if blank(lad):
            out[("district", "no_district")] += pence
        else:
            out[("district", lad)] += pence
            body = p["body_area"]
            if not blank(body):
                out[("district", "inside" if lad == body else "outside")] += pence
        lsoa = place[args.lsoa_column]
        if not is_lsoa(lsoa):
            out[("decile", "no_lsoa")] += pence
            out[("local", "no_lsoa")] += pence
            continue
        if lsoa in ranks:
            d = national_decile(lsoa)
            out[("decile", str(d))] += pence
            if d <= 1:
                out[("most_deprived", "national_10")] += pence
            if d <= 2:
                out[("most_deprived", "national_20")] += pence
        else:
            out[("decile", "not_in_edition")] += pence
        ld = local_decile(p["body_area"], lsoa) if not blank(p["body_area"]) else None
        if ld is None:
            out[("local", "outside")] += pence
        else:
            out[("local", str(ld))] += pence
            if ld <= 1:
                out[("most_deprived", "local_10")] += pence
            if ld <= 2:
                out[("most_deprived", "local_20")] += pence

    for key in ("national_10", "national_20", "local_10", "local_20"):
        out.setdefault(("most_deprived", key), 0)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["measure", "group", "net_pence"])
    for (measure, group), pence in sorted(out.items()):
        w.writerow([measure, group, pence])


if __name__ == "__main__":
    main()
