#!/usr/bin/env python3
"""Times the queries users run, through `tracelake query`, for one or more
builds of the CLI on the same index: trace by id, trace search, the service
map, RED, and log search.

    python3 scripts/query_timings.py --data DIR [--runs 7] [--query-timeout 30s] BIN [BIN ...]

Each run is one process (`BIN query --data DIR ... QUERY`), so a time includes
opening the index and planning, as a user sees it. The builds are interleaved
run by run (A B A B ...), so that a change in the machine's load hits them
alike; the script prints, per query and build, the median and fastest wall
time and the median CPU time (user + sys of the process: steadier than wall
time when other work shares the machine).
A query that fails (past `--query-timeout`, the CLI's default 30 s unless
given, or over the memory pool) is counted and shown as failed rather than
stopping the script, so that an index where queries time out still gets its
figures.

Raw-index mode (the newest hour before compaction, docs/dashboards.md): pass
an index written with `tracelake demo --no-serve --no-compact --no-batch
--minutes 3 --data RAW` (about 8,500 per-delivery segments), and its compacted
copy (`cp -r RAW COMPACTED && tracelake compact --data COMPACTED`) to compare:

    python3 scripts/query_timings.py --data RAW --runs 3 BIN
    python3 scripts/query_timings.py --data COMPACTED --runs 3 BIN

Build profiles are compared here (docs/BENCHMARKS.md, "Build time"); the
dashboards' own benchmark is `cargo bench -p tracelake-dashboards --bench query`.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def run(binary, data, window, args, timeout=None, check=True):
    command = [binary, "query", "--data", data, "--from", window[0], "--to", window[1]]
    if timeout:
        command += ["--query-timeout", timeout]
    command += args
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 and check:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (elapsed, cpu, result.returncode == 0), result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the index (a demo's --data)")
    parser.add_argument("--runs", type=int, default=7, help="runs per query and build")
    parser.add_argument(
        "--query-timeout",
        help="passed to `tracelake query --query-timeout` for the timed queries (default: the CLI's)",
    )
    parser.add_argument("binaries", nargs="+", help="tracelake binaries to compare")
    options = parser.parse_args()
    first = options.binaries[0]

    # The index's time range and one trace and service from it, read with the
    # first build: every build then answers the same queries.
    bounds = json.loads(
        run(
            first,
            options.data,
            ("1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z"),
            ["--json", "sql", "SELECT min(start_time) AS lo, max(end_time) AS hi FROM spans"],
        )[1]
    )
    row = bounds["rows"][0] if isinstance(bounds, dict) else bounds[0]
    window = (str(int(row["lo"]) // 1_000_000), str(int(row["hi"]) // 1_000_000 + 1))
    busiest = json.loads(
        run(
            first,
            options.data,
            window,
            [
                "--json",
                "sql",
                "SELECT trace_id, service FROM spans "
                "GROUP BY trace_id, service ORDER BY count(*) DESC, trace_id LIMIT 1",
            ],
        )[1]
    )
    pick = busiest["rows"][0] if isinstance(busiest, dict) else busiest[0]
    queries = {
        "trace by id": ["trace", pick["trace_id"]],
        "trace search (one service)": ["search", "--service", pick["service"]],
        "service map": ["map"],
        "RED, all services": ["red"],
        "log search (text)": ["logs", "-q", "timeout"],
        "correlation report": ["correlation"],
    }

    times = {(name, b): [] for name in queries for b in options.binaries}
    for name, args in queries.items():
        for binary in options.binaries:  # warm-up: page cache, first-run effects
            run(binary, options.data, window, args, options.query_timeout, check=False)
        for _ in range(options.runs):
            for binary in options.binaries:
                timing = run(binary, options.data, window, args, options.query_timeout, check=False)
                times[(name, binary)].append(timing[0])

    print(f"index {options.data}, window {window[0]}..{window[1]} ms, {options.runs} runs each")
    print("each cell: median wall time (fastest run), median CPU time (user + sys)")
    header = "| query | " + " | ".join(f"build {i + 1}" for i in range(len(options.binaries))) + " |"
    print("\n".join(f"build {i + 1}: {b}" for i, b in enumerate(options.binaries)))
    print(header)
    print("|---|" + "---:|" * len(options.binaries))
    for name in queries:
        cells = []
        for binary in options.binaries:
            walls = [wall for wall, _, _ in times[(name, binary)]]
            cpus = [cpu for _, cpu, _ in times[(name, binary)]]
            failed = sum(1 for _, _, ok in times[(name, binary)] if not ok)
            cells.append(
                f"{statistics.median(walls) * 1000:.0f} ms ({min(walls) * 1000:.0f}), "
                f"CPU {statistics.median(cpus) * 1000:.0f} ms"
                + (f", {failed} of {len(walls)} failed" if failed else "")
            )
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
