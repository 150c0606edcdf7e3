#!/usr/bin/env python3
"""Independent counts of an ONS Postcode Directory file (ONSPD / NSPL, or a column subset).

Written apart from the Rust reader (renewal_ingest::postcodes), Python standard library only,
so the ingest tests can check their figures against a second reading of the raw file:

    python3 tests/reference/postcode_counts.py FILE [FILE ...]

prints one JSON object per file: rows (data records), terminated (a non-empty doterm),
lsoa11 / lsoa21 (non-empty 2011 / 2021 LSOA code cells; null when the file has no such
column), and without_ew_lsoa (neither LSOA code starts E01 or W01).
Gzipped files are read too. Blank lines are not records.
"""

import csv
import gzip
import io
import json
import re
import sys

# Header names, lower-cased; the first present wins. The 2025 releases suffix the vintage
# (lsoa11cd), earlier ones do not (lsoa11).
LSOA11 = ["lsoa11cd", "lsoa11"]
LSOA21 = ["lsoa21cd", "lsoa21"]
DOTERM = ["doterm"]


def open_text(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def pick(header, names):
    lower = [h.strip().lower() for h in header]
    for n in names:
        if n in lower:
            return lower.index(n)
    return None


def count(path):
    with open_text(path) as f:
        reader = csv.reader(f)
        header = None
        rows = terminated = with11 = with21 = without_ew = 0
        for record in reader:
            if not record:
                continue  # a blank line
            if header is None:
                header = record
                i11, i21, iterm = pick(header, LSOA11), pick(header, LSOA21), pick(header, DOTERM)
                continue
            rows += 1
            c11 = record[i11].strip() if i11 is not None else ""
            c21 = record[i21].strip() if i21 is not None else ""
            if iterm is not None and record[iterm].strip():
                terminated += 1
            if c11:
                with11 += 1
            if c21:
                with21 += 1
            if not re.match(r"^(E01|W01)", c11) and not re.match(r"^(E01|W01)", c21):
                without_ew += 1
    return {
        "file": path,
        "rows": rows,
        "terminated": terminated,
        "lsoa11": with11 if i11 is not None else None,
        "lsoa21": with21 if i21 is not None else None,
        "without_ew_lsoa": without_ew,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for path in sys.argv[1:]:
        print(json.dumps(count(path), sort_keys=True))


if __name__ == "__main__":
    main()
