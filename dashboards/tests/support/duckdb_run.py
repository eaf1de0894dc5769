"""Runs dashboard SQL files on DuckDB over a tracelake index.

Input on stdin (JSON): {"root": DIR, "queries": [{"name", "sql", "params": [[name, {"type", "value"}], ...]}]}
Output on stdout (JSON): {name: [row, ...]} with timestamps as integer nanoseconds.
Exits non-zero, loudly, when DuckDB is missing: a test must never pass without it.
"""
import datetime
import glob
import decimal
import json
import os
import re
import sys

try:
    import duckdb
except ImportError:
    sys.exit("duckdb is not installed: pip install duckdb")

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def bind(param):
    kind, value = param["type"], param.get("value")
    if kind == "timestamp_ns":
        return EPOCH + datetime.timedelta(microseconds=value // 1000)
    if kind == "interval_seconds":
        return datetime.timedelta(seconds=value)
    return value


def plain(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        delta = value - EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def create_views(connection, root):
    """One view per table over its Hive-partitioned Parquet files."""
    for table in ("spans", "logs", "invocations", "trace_index"):
        pattern = os.path.join(root, "v1", table, "*", "*", "*.parquet")
        if not any(True for _ in glob.iglob(pattern)):
            continue
        connection.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', "
            "hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}, union_by_name = true)"
        )


def main():
    request = json.load(sys.stdin)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    create_views(connection, request["root"])
    results = {}
    for query in request["queries"]:
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z_0-9]*)", query["sql"]))
        params = {name: bind(value) for name, value in query["params"] if name in used}
        cursor = connection.execute(query["sql"], params)
        columns = [column[0] for column in cursor.description]
        results[query["name"]] = [dict(zip(columns, map(plain, row))) for row in cursor.fetchall()]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
