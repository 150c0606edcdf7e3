#!/usr/bin/env python3
"""Every sheet of a workbook as JSON, read with openpyxl (an independent reader: the project
itself writes with rust_xlsxwriter and reads with calamine).

    xlsx_cells.py FILE.xlsx  ->  {"sheets": {"Answer": [[cell, ...], ...], ...},
                                  "types": {"Answer": [["n"|"s"|"b"|null, ...], ...], ...}}

A cell's value is as openpyxl reads it: numbers as numbers, TRUE/FALSE as booleans, text as
strings, an empty cell as null. "types" gives openpyxl's data type per cell ("n" number, "s"
string, "b" boolean, "f" formula), so a test can check that text was never stored as a formula.
"""
import json
import sys

import openpyxl


def main() -> None:
    book = openpyxl.load_workbook(sys.argv[1], data_only=False)
    sheets = {}
    types = {}
    for ws in book.worksheets:
        rows = []
        kinds = []
        for row in ws.iter_rows():
            rows.append([c.value for c in row])
            kinds.append([None if c.value is None else c.data_type for c in row])
        sheets[ws.title] = rows
        types[ws.title] = kinds
    json.dump({"sheets": sheets, "types": types}, sys.stdout)


if __name__ == "__main__":
    main()
