"""The ADBC Flight SQL driver against a running Renewal server.

Usage: adbc_client.py URI KEY. Prints, one per line: the catalogs, schemas and tables that
adbc_get_objects() reports, then the number of rows of iod_2019__lsoa the key can read.
"""
import sys

import adbc_driver_flightsql.dbapi as flightsql


def main() -> None:
    uri, key = sys.argv[1], sys.argv[2]
    with flightsql.connect(
        uri,
        db_kwargs={"adbc.flight.sql.authorization_header": f"Bearer {key}"},
    ) as conn:
        objects = conn.adbc_get_objects().read_all().to_pylist()
        for catalog in sorted(objects, key=lambda c: c["catalog_name"]):
            print(f"catalog,{catalog['catalog_name']}")
            for schema in sorted(
                catalog["catalog_db_schemas"] or [], key=lambda s: s["db_schema_name"]
            ):
                print(f"schema,{catalog['catalog_name']}.{schema['db_schema_name']}")
                for table in sorted(
                    schema["db_schema_tables"] or [], key=lambda t: t["table_name"]
                ):
                    print(f"table,{table['table_name']}")
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM iod_2019__lsoa")
            (n,) = cur.fetchone()
            print(f"count,{n}")


if __name__ == "__main__":
    main()
