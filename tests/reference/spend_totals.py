#!/usr/bin/env python3
"""Independent reference for `renewal ingest spend` and `renewal ingest suppliers`.

Python standard library only (`csv`, `decimal`, `re`), no Renewal code or schema files: the
column names below were read off the raw files by hand. Three modes:

    python3 tests/reference/spend_totals.py totals FILE [FILE ...]
        One CSV row per file, `file,rows,net_pence`: every payment row of the file (blank
        lines skipped) and the exact sum of its net amount in pence (refunds negative).

    python3 tests/reference/spend_totals.py suppliers REGISTER [REGISTER ...]
        `identities,with_postcode,with_company_number`: supplier identities (company number
        when the row gives a valid one, else the normalised name), how many have a validly
        shaped postcode on some row, and how many have a company number.

    python3 tests/reference/spend_totals.py match REGISTER FILE [FILE ...]
        How much of the spend in FILEs the register locates: `how,payments,pence` rows for
        `company_number` (payment and register give the same number), `name` (else the same
        normalised name), `unmatched`, and `total`; then `located` (matched to an identity
        that has a postcode).

Normalisation follows the issue 16 table contract, written again here from its text.
"""

import csv
import re
import sys
from collections import Counter
from decimal import Decimal

# Header -> what it is, per layout (first header cell with any BOM, real or mis-decoded, cut).
NET = {"Net", "Net Amount", "Amount"}
NAME = {"Supplier Name", "Vendor Name", "Supplier(Beneficiary) Name"}
COMPANY = {"Supplier Registered Company Number"}

LEGAL = {"ltd", "limited", "plc", "llp", "cic", "inc", "co", "lp"}
POSTCODE = re.compile(r"^(GIR0AA|[A-Z][0-9][0-9A-Z]?[0-9][A-Z]{2}|[A-Z][A-Z][0-9][0-9A-Z]?[0-9][A-Z]{2})$")


def rows_of(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    for bom in ("Ã¯Â»Â¿", "Ã¯»¿", "ï»¿"):
        if header[0].startswith(bom):
            header[0] = header[0][len(bom):]
    return header, rows[1:]


def pence(text):
    value = Decimal(text.strip().replace(",", "")) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is not pounds and pence")
    return int(value)


def key(name):
    s = name.lower().replace("&", " and ")
    words = "".join(c if c.isalnum() else " " for c in s).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL:
        words = words[:-1]
    return " ".join(words)


def company(text):
    s = "".join(text.split()).upper()
    if re.fullmatch(r"[0-9]{1,8}", s) and s.strip("0"):
        return s.rjust(8, "0")
    if re.fullmatch(r"[A-Z]{2}[0-9]{6}", s):
        return s
    return None


def postcode(text):
    s = "".join(text.split()).upper()
    return s[:-3] + " " + s[-3:] if POSTCODE.match(s) else None


def column(header, names):
    found = [i for i, h in enumerate(header) if h in names]
    return found[0] if found else None


def payments(path):
    header, rows = rows_of(path)
    net, name, cn = column(header, NET), column(header, NAME), column(header, COMPANY)
    if net is None or name is None:
        sys.exit(f"{path}: no net amount or supplier name column in {header}")
    for r in rows:
        yield pence(r[net]), r[name].strip(), (company(r[cn]) if cn is not None else None)


def register(paths):
    """identity -> (key, company number, postcodes seen)."""
    ids = {}
    for path in paths:
        header, rows = rows_of(path)
        name = header.index("Supplier Company Name")
        pc = header.index("Supplier Postcode")
        cn = header.index("Company Number")
        for r in rows:
            if not r[name].strip():
                continue
            number = company(r[cn])
            k = key(r[name])
            ident = ("company", number) if number else ("name", k)
            entry = ids.setdefault(ident, (k, number, []))
            p = postcode(r[pc])
            if p:
                entry[2].append(p)
    return ids


def main(argv):
    mode, files = argv[1], argv[2:]
    out = csv.writer(sys.stdout, lineterminator="\n")
    if mode == "totals":
        out.writerow(["file", "rows", "net_pence"])
        for path in files:
            amounts = [p for p, _, _ in payments(path)]
            out.writerow([path.rsplit("/", 1)[-1], len(amounts), sum(amounts)])
    elif mode == "suppliers":
        ids = register(files)
        out.writerow(["identities", "with_postcode", "with_company_number"])
        out.writerow([
            len(ids),
            sum(1 for _, _, pcs in ids.values() if pcs),
            sum(1 for _, n, _ in ids.values() if n),
        ])
    elif mode == "match":
        ids = register(files[:1])
        by_number = {n: pcs for _, n, pcs in ids.values() if n}
        by_key = {}
        for k, _, pcs in ids.values():
            by_key.setdefault(k, []).extend(pcs)
        tally = Counter()
        count = Counter()
        for path in files[1:]:
            for amount, name, number in payments(path):
                if number and number in by_number:
                    how, pcs = "company_number", by_number[number]
                elif key(name) in by_key:
                    how, pcs = "name", by_key[key(name)]
                else:
                    how, pcs = "unmatched", []
                for h in (how, "total") + (("located",) if pcs else ()):
                    tally[h] += amount
                    count[h] += 1
        out.writerow(["how", "payments", "pence"])
        for how in ("company_number", "name", "unmatched", "total", "located"):
            out.writerow([how, count[how], tally[how]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
