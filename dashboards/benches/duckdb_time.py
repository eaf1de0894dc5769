"""Times dashboard SQL on DuckDB for the query benchmark (benches/query/).

Input on stdin (JSON):
  {"views": SQL, "runs": N,
   "cases": [{"label", "queries": [{"name", "sql", "params"}]}],
   "lookups": [{"key", "queries": [{"name", "sql", "params"}]}]}
`views` are the `CREATE VIEW` statements of `tracelake duckdb-view` (the live
files of the index, no glob).
Output: {"cases": {label: median ms}, "lookups": {key: {"ms": [ms, ...], "rows": [rows per query]}}},
each over `runs` timed runs after one warm-up; a case or lookup runs its
queries in sequence.
"""
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "support"))
import duckdb  # noqa: E402  (fails loudly when missing)

from duckdb_run import bind  # noqa: E402


def prepare(queries):
    prepared = []
    for query in queries:
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z_0-9]*)", query["sql"]))
        prepared.append((query["sql"], {n: bind(v) for n, v in query["params"] if n in used}))
    return prepared


def timed(connection, prepared, runs):
    """Per-run milliseconds of the timed runs, and the row count of each query."""
    timings, rows = [], []
    for run in range(runs + 1):
        start = time.perf_counter()
        counts = [len(connection.execute(sql, params).fetchall()) for sql, params in prepared]
        if run == 0:
            rows = counts
        else:
            timings.append((time.perf_counter() - start) * 1000.0)
    return timings, rows


def main():
    request = json.load(sys.stdin)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    for statement in request["views"].split(";\n"):
        if statement.strip():
            connection.execute(statement)
    runs = request["runs"]
    result = {"cases": {}, "lookups": {}}
    for case in request.get("cases", []):
        timings, _ = timed(connection, prepare(case["queries"]), runs)
        result["cases"][case["label"]] = statistics.median(timings)
    for lookup in request.get("lookups", []):
        timings, rows = timed(connection, prepare(lookup["queries"]), runs)
        result["lookups"][lookup["key"]] = {"ms": timings, "rows": rows}
    json.dump(result, sys.stdout)


main()
