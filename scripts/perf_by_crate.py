#!/usr/bin/env python3
"""Where a profiled pass spends its CPU, by crate.

Reads `perf script` output (a `perf record --call-graph dwarf` profile) on
stdin. Keeps the samples whose stack contains ROOT (default `ingest_all`, the
ingest bench's one-core pass) and gives each to the innermost frame that names
a crate, skipping `core`, `alloc`, `std`, `hashbrown`, `tokio` and the global
allocator's shims, so a `memcpy` or `malloc` counts for the crate that asked
for it. zstd's C functions count as `zstd (C)`.

Usage (docs/BENCHMARKS.md, "Why the one-core large-batch target is blocked"):
    perf script -i ingest.perf | python3 scripts/perf_by_crate.py [ROOT]
"""

import collections
import re
import sys

SKIPPED = {"core", "alloc", "std", "hashbrown", "tokio", "__rustc"}
CRATE = re.compile(r"^<*&?(?:mut )?(?:dyn )?([a-z_][a-z0-9_]*)::")


def samples(lines):
    stack = None
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            if stack is not None:
                yield stack
            stack = None
        elif not line.startswith(("\t", " ")):
            stack = []
        elif stack is not None:
            parts = line.strip().split(" ", 1)
            stack.append(re.sub(r"\s*\(.*\)$", "", parts[1] if len(parts) > 1 else "?"))
    if stack:
        yield stack


def owner(stack):
    for frame in stack:
        match = CRATE.match(frame)
        if match and match.group(1) not in SKIPPED:
            return match.group(1)
        if frame.startswith(("ZSTD_", "HUF_", "FSE_")):
            return "zstd (C)"
    return "other"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "ingest_all"
    counts = collections.Counter(
        owner(stack) for stack in samples(sys.stdin) if any(root in f for f in stack)
    )
    total = sum(counts.values())
    if total == 0:
        sys.exit(f"no sample has a frame containing {root!r}")
    for crate, count in counts.most_common(20):
        print(f"{100 * count / total:5.1f}% {crate}")
    ours = sum(v for k, v in counts.items() if k.startswith("tracelake"))
    print(f"tracelake crates: {100 * ours / total:.1f}%, everything else: "
          f"{100 * (total - ours) / total:.1f}% ({total} samples)")


if __name__ == "__main__":
    main()
