#!/usr/bin/env python3
"""Independent reference: where the sample council's spending lands, by IMD decile.

Reads the raw files `renewal sample --boundary-change` writes, with the Python standard library
only (csv, gzip, json, fractions), and none of Renewal's code:

    python3 tests/reference/spend_deciles.py SAMPLE_DIR

- spend:    SAMPLE_DIR/spend/renewal_vale_spend_over_500_*.csv (Salford layout; `Net` in pounds
            with two decimals, read as integer pence; refunds negative and kept). Files are taken
            in name order (= month order). A row whose (body, reference, payment date, net
            pence, supplier key) equals a row of an EARLIER file is a duplicate and not counted;
            identical rows within one file are all counted (the issue 16 table contract).
- register: SAMPLE_DIR/spend/renewal_vale_contract_register.csv. One supplier identity per
            company number when the row gives one, else per supplier key; its postcode is the
            most frequent valid postcode among its rows (ties: the first seen); its key is that
            of its first row.
- directory: SAMPLE_DIR/geography/postcodes/renewal_sample_onspd.csv: postcode -> lsoa11cd
            (terminated postcodes included: they still say where the supplier is).
- IoD:      SAMPLE_DIR/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz: national IMD decile per
            2011 LSOA ("Index of Multiple Deprivation (IMD) Decile ...").

A payment is matched to an identity by company number when both give one (the Salford spend
layout has no company number column, so in the sample every match is by name), else by supplier
key. Payments to "redacted" payees are never matched. Prints one JSON object: totals in pence
by decile and by reason a payment has no decile, and the shares of all net spend (and of the
spend with a decile) in decile 1 and in deciles 1-2, as exact fractions and as floats.
"""

import csv
import glob
import gzip
import json
import os
import re
import sys
from fractions import Fraction

# The contract's normalisation, written out again here (not read from data-schemas/).
LEGAL_FORMS = {"ltd", "limited", "plc", "llp", "cic", "inc", "co", "lp"}
REDACTION_MARKERS = {"redacted personal information", "redacted", "personal data", "redacted data"}
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$")
DECILE_HEADER = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"


def supplier_key(name):
    s = name.lower().replace("&", " and ")
    s = "".join(c if c.isalnum() else " " for c in s)
    words = s.split()
    if words and words[0] == "the":
        words = words[1:]
    while words and words[-1] in LEGAL_FORMS:
        words = words[:-1]
    return " ".join(words)


def company_number(text):
    t = "".join(text.split()).upper()
    if t in ("", "N/A", "-", "0"):
        return None
    if t.isdigit():
        return t.rjust(8, "0")
    if len(t) == 8 and t[:2].isalpha() and t[2:].isdigit():
        return t
    return None


def postcode(text):
    t = "".join(text.split()).upper()
    m = POSTCODE.match(t)
    return f"{m.group(1)} {m.group(2)}" if m else None


def pence(text):
    t = text.strip()
    negative = t.startswith("-")
    whole, _, frac = t.lstrip("-").partition(".")
    value = int(whole) * 100 + int((frac + "00")[:2])
    return -value if negative else value


def read_csv(path, opener=open):
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    return rows[0], rows[1:]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]

    header, rows = read_csv(os.path.join(root, "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"), gzip.open)
    lsoa_i, decile_i = header.index("LSOA code (2011)"), header.index(DECILE_HEADER)
    decile = {r[lsoa_i]: int(r[decile_i]) for r in rows}

    header, rows = read_csv(os.path.join(root, "geography/postcodes/renewal_sample_onspd.csv"))
    pcds_i, lsoa11_i = header.index("pcds"), header.index("lsoa11cd")
    lsoa_of = {postcode(r[pcds_i]): r[lsoa11_i] for r in rows}

    header, rows = read_csv(os.path.join(root, "spend/renewal_vale_contract_register.csv"))
    name_i, pc_i, cn_i = (header.index(h) for h in ("Supplier Company Name", "Supplier Postcode", "Company Number"))
    identities = {}  # identity -> {"key": first key, "postcodes": {pc: [count, first seen]}}
    for n, r in enumerate(rows):
        cn = company_number(r[cn_i])
        ident = ("company", cn) if cn else ("key", supplier_key(r[name_i]))
        entry = identities.setdefault(ident, {"key": supplier_key(r[name_i]), "company": cn, "postcodes": {}})
        pc = postcode(r[pc_i])
        if pc:
            seen = entry["postcodes"].setdefault(pc, [0, n])
            seen[0] += 1
    by_company, by_key = {}, {}
    for ident, e in identities.items():
        ranked = sorted(e["postcodes"].items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        e["postcode"] = ranked[0][0] if ranked else None
        if e["company"]:
            by_company[e["company"]] = e
        if e["key"] in by_key:
            sys.exit(f"two register identities share the supplier key {e['key']!r}: the sample should not")
        by_key[e["key"]] = e

    files = sorted(glob.glob(os.path.join(root, "spend/renewal_vale_spend_over_500_*.csv")))
    earlier = set()
    totals = {
        "total_pence": 0,
        "rows": 0,
        "duplicate_rows": 0,
        "duplicate_pence": 0,
        "redacted_pence": 0,
        "not_matched_pence": 0,
        "matched_by_company_pence": 0,
        "matched_by_name_pence": 0,
        "matched_without_postcode_pence": 0,
        "postcode_not_in_directory_pence": 0,
        "lsoa_without_decile_pence": 0,
    }
    by_decile = {d: 0 for d in range(1, 11)}
    for path in files:
        header, rows = read_csv(path)
        body_i, date_i, ref_i, net_i, vendor_i = (
            header.index(h) for h in ("Authority Name", "Date of Payment", "DocumentNo", "Net", "Vendor Name")
        )
        here = set()
        for r in rows:
            net = pence(r[net_i])
            key = supplier_key(r[vendor_i])
            dedup = (r[body_i].strip(), r[ref_i].strip(), r[date_i].strip(), net, key)
            if dedup in earlier:
                totals["duplicate_rows"] += 1
                totals["duplicate_pence"] += net
                continue
            here.add(dedup)
            totals["rows"] += 1
            totals["total_pence"] += net
            if r[vendor_i].strip().lower() in REDACTION_MARKERS:
                totals["redacted_pence"] += net
                continue
            # The Salford layout has no company number, so the company path never applies here.
            entry = by_key.get(key)
            if entry is None:
                totals["not_matched_pence"] += net
                continue
            totals["matched_by_name_pence"] += net
            if entry["postcode"] is None:
                totals["matched_without_postcode_pence"] += net
            elif entry["postcode"] not in lsoa_of:
                totals["postcode_not_in_directory_pence"] += net
            elif lsoa_of[entry["postcode"]] not in decile:
                totals["lsoa_without_decile_pence"] += net
            else:
                by_decile[decile[lsoa_of[entry["postcode"]]]] += net
        earlier |= here

    with_decile = sum(by_decile.values())
    total = totals["total_pence"]
    d1, d2 = by_decile[1], by_decile[1] + by_decile[2]

    def share(a, b):
        f = Fraction(a, b) if b else Fraction(0)
        return {"fraction": f"{f.numerator}/{f.denominator}", "value": float(f)}

    out = dict(totals)
    out["files"] = len(files)
    out["by_decile_pence"] = {str(d): v for d, v in by_decile.items()}
    out["with_decile_pence"] = with_decile
    out["share_of_total_decile_1"] = share(d1, total)
    out["share_of_total_deciles_1_2"] = share(d2, total)
    out["share_of_with_decile_decile_1"] = share(d1, with_decile)
    out["share_of_with_decile_deciles_1_2"] = share(d2, with_decile)
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
