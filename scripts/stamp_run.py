#!/usr/bin/env python3
"""Time a command's output line by line, as a user watching it would.

    python3 scripts/stamp_run.py LOG STOP_PATTERN CMD...

Runs CMD in its own session and writes each line of its output (stdout and
stderr) to LOG, prefixed with the seconds since the start. At the first line
containing STOP_PATTERN (empty: never) it sends Ctrl-C. LOG ends with the wall
time and the user and system CPU of the children. Used for "Two binaries" in
docs/BENCHMARKS.md.
"""
import os, resource, signal, subprocess, sys, time
log, stop, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True, bufsize=1)
with open(log, "w") as out:
    for line in p.stdout:
        t = time.monotonic() - start
        out.write(f"{t:8.1f} {line}")
        out.flush()
        if stop and stop in line:
            os.killpg(p.pid, signal.SIGINT)
            break
    p.wait()
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    out.write(f"END wall {time.monotonic()-start:.1f} s, children user {u.ru_utime:.0f} s sys {u.ru_stime:.0f} s, rc {p.returncode}\n")
