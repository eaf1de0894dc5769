"""Times dashboard SQL on DuckDB for the query benchmark (benches/query/).

Input on stdin (JSON):
  {"views": SQL, "runs": N,
   "cases": [{"label", "queries": [{"name", "sql", "params"}]}],
   "lookups": [{"key", "queries": [{"name", "sql", "params"}],
                "then": [{"name", "sql", "params", "request_ids_from": [i, ...]}]}]}
`views` are the `CREATE VIEW` statements of `tracelake duckdb-view` (the live
files of the index, no glob).
Output: {"cases": {label: median ms}, "lookups": {key: {"ms": [ms, ...], "rows": [rows per query]}}},
each over `runs` timed runs after one warm-up; a case or lookup runs its
queries in sequence. A lookup's `then` queries run after its `queries`, with
`$request_ids` bound to the distinct `request_id`s (sorted, comma-separated,
ids holding a comma left out) of the rows of the `queries` named by index in
`request_ids_from`; with no such id a `then` query is not run and counts 0
rows, as `QueryEngine::trace` does (`trace_request_ids`).
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


def request_ids(connection, sql, params):
    """The rows of a query, and the request ids among them."""
    cursor = connection.execute(sql, params)
    names = [column[0] for column in cursor.description]
    found = cursor.fetchall()
    if "request_id" not in names:
        return found, set()
    at = names.index("request_id")
    return found, {row[at] for row in found if row[at] and "," not in row[at]}


def run_then(connection, then, ids_of):
    """Row counts of the second step's queries, given each first query's ids."""
    counts = []
    for query in then:
        ids = set().union(*(ids_of[i] for i in query["request_ids_from"]))
        if not ids:
            counts.append(0)
            continue
        used = set(re.findall(r"\$([A-Za-z_][A-Za-z_0-9]*)", query["sql"]))
        params = {n: bind(v) for n, v in query["params"] if n in used}
        params["request_ids"] = ",".join(sorted(ids))
        counts.append(len(connection.execute(query["sql"], params).fetchall()))
    return counts


def timed(connection, prepared, runs, then=()):
    """Per-run milliseconds of the timed runs, and the row count of each query."""
    timings, rows = [], []
    for run in range(runs + 1):
        start = time.perf_counter()
        counts, ids_of = [], []
        for sql, params in prepared:
            found, ids = request_ids(connection, sql, params)
            counts.append(len(found))
            ids_of.append(ids)
        if then:
            counts += run_then(connection, then, ids_of)
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
        timings, rows = timed(connection, prepare(lookup["queries"]), runs, lookup.get("then", ()))
        result["lookups"][lookup["key"]] = {"ms": timings, "rows": rows}
    json.dump(result, sys.stdout)


main()
