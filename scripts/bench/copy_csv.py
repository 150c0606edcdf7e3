"""The plain CSV -> Parquet conversions Renewal's ingest is compared with (england-data.sh):
  python copy_csv.py duckdb OUT.parquet FILE...   COPY (SELECT * FROM read_csv([FILE...])) TO OUT
  python copy_csv.py polars OUT.parquet FILE...   pl.scan_csv([FILE...]).sink_parquet(OUT)
Gzipped files: DuckDB reads them directly; polars' scan_csv cannot, so they go through
pl.read_csv (which decompresses) and write_parquet. Prints the rows written."""
import sys

engine, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if engine == "duckdb":
    import duckdb

    listed = ", ".join(f"'{f}'" for f in files)
    duckdb.sql(f"COPY (SELECT * FROM read_csv([{listed}])) TO '{out}' (FORMAT parquet)")
    print(duckdb.sql(f"SELECT count(*) FROM '{out}'").fetchall()[0][0])
elif engine == "polars":
    import polars as pl

    if any(f.endswith(".gz") for f in files):
        pl.concat([pl.read_csv(f) for f in files]).write_parquet(out)
    else:
        pl.scan_csv(files).sink_parquet(out)
    print(pl.scan_parquet(out).select(pl.len()).collect().item())
else:
    sys.exit(f"unknown engine {engine}")
