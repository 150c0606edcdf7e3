#!/usr/bin/env python3
"""Independent reference for "an area against its parent area" (police force area, region …):
the population-weighted average IoD score of every parent area built from districts,
straight from the raw published files (never Renewal's warehouse).

Written from /work/shared/METHODS.md ("Average score = sum p_i s_i / sum p_i") with the Python
standard library only, exact with fractions.Fraction. A parent gets a value only when every
one of its member districts is a district of the LSOA lookup (else the districts missing are
listed and the parent is left empty), and a district lying in two parents of the type counts
towards neither.

    python3 tests/reference/parent_score.py --scores UK_IMD_E.csv --score-column overall_local_score \
        --lsoa-column lsoa --pop File_6.csv --lookup LSOA11_WD19.csv \
        --parents LAD24_CSP24_PFA24.csv --member-column LAD24CD --parent-column PFA24CD

Output, CSV on stdout: `parent_code,value,lsoas` for every parent (value empty when it has
none), then one line `missing,<district>;<district>…` naming the lookup's districts (of the
countries the parent file covers) that are in no parent.
"""
import argparse
import csv
import sys
from fractions import Fraction

POP_LSOA = "LSOA code (2011)"
POP_TOTAL = "Total population: mid 2015 (excluding prisoners)"


def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def number(text):
    return Fraction(text.replace(",", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scores", required=True)
    ap.add_argument("--score-column", required=True)
    ap.add_argument("--lsoa-column", required=True)
    ap.add_argument("--pop", required=True)
    ap.add_argument("--lookup", required=True)
    ap.add_argument("--parents", required=True)
    ap.add_argument("--member-column", required=True)
    ap.add_argument("--parent-column", required=True)
    a = ap.parse_args()

    score = {}
    for r in rows(a.scores):
        if r.get("nation", "E") != "E":
            continue
        score[r[a.lsoa_column]] = number(r[a.score_column])
    pop = {r[POP_LSOA]: number(r[POP_TOTAL]) for r in rows(a.pop)}
    lad_of = {r["LSOA11CD"]: r["LAD19CD"] for r in rows(a.lookup)}

    parents_of = {}
    for r in rows(a.parents):
        parents_of.setdefault(r[a.member_column], set()).add(r[a.parent_column])
    members = {}
    for d, ps in parents_of.items():
        for p in ps:
            members.setdefault(p, set()).add(d)

    lookup_districts = set(lad_of.values())
    countries = {d[0] for d in parents_of}
    missing = sorted(
        d for d in lookup_districts if d[0] in countries and d not in parents_of
    )

    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["parent_code", "value", "lsoas"])
    for p in sorted(members):
        whole = all(d in lookup_districts for d in members[p]) and all(
            len(parents_of[d]) == 1 for d in members[p]
        )
        lsoas = [l for l, d in lad_of.items() if d in members[p]]
        if not whole or not lsoas or any(l not in score or l not in pop for l in lsoas):
            out.writerow([p, "", len(lsoas)])
            continue
        num = sum(pop[l] * score[l] for l in lsoas)
        den = sum(pop[l] for l in lsoas)
        out.writerow([p, repr(float(num / den)), len(lsoas)])
    out.writerow(["missing", ";".join(missing), ""])


if __name__ == "__main__":
    main()
