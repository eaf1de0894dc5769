#!/usr/bin/env python3
"""Check that the crates `tracelake` and `tracelake-dashboards` share are
built with the same features in both binaries' builds.

`cargo run --release -- demo` builds `tracelake` alone, then `tracelake`
has Cargo build `tracelake-dashboards` alone (docs/build.md, "Two binaries").
Cargo resolves features per build: a shared crate that gets other features in
the second build is compiled a second time, and so is everything above it
(arrow, parquet, the index...). The `tracelake-workspace-hack` crate
(`workspace-hack/`), a dependency of both, asks for the union of the features
of each shared crate, so that the second build compiles only what the first
did not.

Usage: python3 scripts/check_shared_features.py
Exit status 1, with the crates that differ and their features, when they differ.
"""

import subprocess
import sys

PACKAGES = ("tracelake", "tracelake-dashboards")


# The two binaries' packages and this check's remedy: their own features may differ.
SKIPPED = {"tracelake", "tracelake-dashboards", "tracelake-workspace-hack"}


def resolved(package, edges):
    """{crate "name vX.Y.Z": set of features} for a build of `package` alone,
    over the dependency `edges` ("normal", or "normal,build", where a crate
    that is both a build and a normal dependency shows the union)."""
    text = subprocess.run(
        ["cargo", "tree", "-p", package, "-e", edges, "--prefix", "none",
         "--format", "{p}|{f}"],
        check=True, capture_output=True, text=True).stdout
    crates = {}
    for line in text.splitlines():
        # Cargo marks a crate it printed before with " (*)" at the end of the line.
        name, _, features = line.removesuffix(" (*)").partition("|")
        name = name.split(" (")[0].strip()
        if not name or name.split(" ")[0] in SKIPPED:
            continue
        crates.setdefault(name, set()).update(f for f in features.strip().split(",") if f)
    return crates


def main():
    differing = []
    for edges in ("normal", "normal,build"):
        light, dashboards = (resolved(package, edges) for package in PACKAGES)
        for name in sorted(set(light) & set(dashboards)):
            line = (f"  {name}: only in tracelake's build {sorted(light[name] - dashboards[name])}, "
                    f"only in tracelake-dashboards' {sorted(dashboards[name] - light[name])}")
            if light[name] != dashboards[name] and line not in differing:
                differing.append(line)
    if differing:
        print(f"{len(differing)} crate(s) shared by {PACKAGES[0]} and {PACKAGES[1]} get different "
              "features in their builds, so building the second compiles them again. Add the "
              "union of their features to workspace-hack/Cargo.toml:", file=sys.stderr)
        print("\n".join(differing), file=sys.stderr)
        return 1
    print(f"{len(set(light) & set(dashboards))} shared crates, same features in both builds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
