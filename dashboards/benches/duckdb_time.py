"""Times dashboard SQL on DuckDB for the query benchmark (benches/query.rs).

Input on stdin (JSON): {"root", "runs", "cases": [{"label", "queries": [{"name", "sql", "params"}]}]}
Output: {label: median milliseconds} over `runs` timed runs after one warm-up.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "support"))
import duckdb  # noqa: E402  (fails loudly when missing)

from duckdb_run import bind, create_views  # noqa: E402


def main():
    request = json.load(sys.stdin)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    create_views(connection, request["root"])
    import re
    result = {}
    for case in request["cases"]:
        prepared = []
        for query in case["queries"]:
            used = set(re.findall(r"\$([A-Za-z_][A-Za-z_0-9]*)", query["sql"]))
            prepared.append((query["sql"], {n: bind(v) for n, v in query["params"] if n in used}))
        timings = []
        for run in range(request["runs"] + 1):
            start = time.perf_counter()
            for sql, params in prepared:
                connection.execute(sql, params).fetchall()
            if run > 0:
                timings.append((time.perf_counter() - start) * 1000.0)
        result[case["label"]] = statistics.median(timings)
    json.dump(result, sys.stdout)


main()
