#!/usr/bin/env python3
"""Structure checks of the workspace (docs/architecture.md, "Rules the CI checks").

1. No module cycles: within each crate, no module uses another that (directly
   or through others) uses it back. A module is one source file (`a.rs`,
   `a/mod.rs`); its dependencies are the `crate::…`, `super::…` and `self::…`
   paths in its code outside `#[cfg(test)]` modules, each resolved to the
   longest module path it names. Re-exports (`pub use`) count.
2. No source file over MAX_LINES lines outside tests, fixtures and vendored
   code. A file's lines are counted up to its `#[cfg(test)]` module.

Every violation is printed with its path; the exit status is 1 if any.
Usage: scripts/check_structure.py [cycles|lines]... (both by default)
"""

import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MAX_LINES = 500
SOURCE_SUFFIXES = (".rs", ".js", ".mjs", ".cjs", ".py", ".sh")
# Directories that hold no first-party production source.
SKIPPED_DIRS = {"target", "node_modules", "vendor", "vendored", "fixtures", "tests", ".git", ".wt"}

TEST_MODULE = re.compile(r"^\s*#\[cfg\(test\)\]\s*\n\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", re.M)
LINE_COMMENT = re.compile(r"//.*")
BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
STRING = re.compile(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"')


def rel(path):
    return os.path.relpath(path, ROOT)


def workspace_crates():
    """(crate directory, src directory) of the root crate and every member."""
    crates = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith(".")]
        if "Cargo.toml" in filenames and os.path.isdir(os.path.join(dirpath, "src")):
            crates.append(dirpath)
    return sorted(crates)


def without_tests(text):
    """The text up to the first `#[cfg(test)] mod … {`."""
    match = TEST_MODULE.search(text)
    return text[: match.start()] if match else text


def code_only(text):
    """The text with comments and string literals blanked (newlines kept)."""
    blank = lambda m: re.sub(r"[^\n]", " ", m.group(0))
    text = BLOCK_COMMENT.sub(blank, text)
    text = STRING.sub(blank, text)
    return LINE_COMMENT.sub("", text)


def module_files(src):
    """{module path (tuple): file} for every module file under `src`.

    `lib.rs` and `main.rs` are the crate root (); a binary's other roots
    (`src/bin/x.rs`) are separate roots and left out."""
    modules = {}
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in {"bin"} | SKIPPED_DIRS]
        for name in filenames:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            parts = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
            if parts[-1] == "mod":
                parts = parts[:-1]
            if parts in (["lib"], ["main"]):
                parts = []
            modules[tuple(parts)] = path
    return modules


IDENT = re.compile(r"\s*(\w+)")


def parse_tail(code, pos):
    """Paths (lists of segments) from `pos`, just after a path's first
    segment: `::a::b`, `::{a, b::{c, self}}`. Returns (paths, end)."""
    segments = []
    while True:
        match = re.compile(r"\s*::\s*").match(code, pos)
        if not match:
            return [segments], pos
        pos = match.end()
        if code.startswith("{", pos):
            paths, pos = parse_group(code, pos + 1)
            return [segments + p for p in paths], pos
        if code.startswith("*", pos):
            return [segments], pos + 1
        ident = IDENT.match(code, pos)
        if not ident:
            return [segments], pos
        segments.append(ident.group(1))
        pos = ident.end()


def parse_group(code, pos):
    """The paths of a use group whose `{` is just before `pos`."""
    paths = []
    while pos < len(code):
        match = re.compile(r"[\s,]*").match(code, pos)
        pos = match.end()
        if code.startswith("}", pos):
            return paths, pos + 1
        if code.startswith("*", pos):
            paths.append([])
            pos += 1
            continue
        if code.startswith("{", pos):
            inner, pos = parse_group(code, pos + 1)
            paths.extend(inner)
            continue
        ident = IDENT.match(code, pos)
        if not ident:
            pos += 1
            continue
        head = ident.group(1)
        tails, pos = parse_tail(code, ident.end())
        alias = re.compile(r"\s+as\s+\w+").match(code, pos)
        if alias:
            pos = alias.end()
        for tail in tails:
            paths.append([] if head == "self" and not tail else [head] + tail)
    return paths, pos


def reexports(module, code, modules):
    """{name: module} of the names `module` re-exports with `pub use`."""
    names = {}
    for match in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+", code):
        pos = match.end()
        ident = IDENT.match(code, pos)
        if not ident:
            continue
        head = ident.group(1)
        base = {"crate": [], "self": list(module), "super": list(module[:-1])}.get(head)
        tails, _ = parse_tail(code, ident.end())
        for tail in tails:
            path = (base if base is not None else list(module) + [head]) + tail
            target = tuple(path[:-1])
            while target and target not in modules:
                target = target[:-1]
            if path and target in modules and target != module:
                names[path[-1]] = target
    return names


def dependencies(module, code, modules, root_exports):
    """{target module: first line number} of the modules `code` refers to:
    paths from `crate`, `super` or `self`, and paths from a child module's
    name (`child::item`, which a `use` may also start with)."""
    found = {}
    starts = re.finditer(r"(?<![\w:])(crate|super|self|\w+)(?=\s*::)", code)
    for match in starts:
        anchor = match.group(1)
        if anchor in ("crate", "self", "super"):
            base = {"crate": [], "self": list(module), "super": list(module[:-1])}[anchor]
        elif module + (anchor,) in modules:
            base = list(module) + [anchor]
        else:
            continue
        tails, _ = parse_tail(code, match.end())
        line = code.count("\n", 0, match.start()) + 1
        for tail in tails:
            path = list(base)
            for segment in tail:
                if segment == "super":
                    path = path[:-1]
                elif segment != "self":
                    path.append(segment)
            target = tuple(path)
            while target and target not in modules:
                target = target[:-1]
            if target == () and path and path[0] in root_exports:
                # An item the crate root only re-exports: the module defining it.
                target = root_exports[path[0]]
            if target in modules and target != module:
                found.setdefault(target, line)
    return found


def strongly_connected(graph):
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def show(module):
    return "crate" if not module else "crate::" + "::".join(module)


def check_cycles():
    violations = 0
    for crate in workspace_crates():
        modules = module_files(os.path.join(crate, "src"))
        codes = {}
        for module, path in modules.items():
            with open(path, encoding="utf-8") as file:
                codes[module] = code_only(without_tests(file.read()))
        root_exports = reexports((), codes.get((), ""), modules)
        graph = {m: dependencies(m, code, modules, root_exports) for m, code in codes.items()}
        for component in strongly_connected(graph):
            violations += 1
            members = set(component)
            print(f"module cycle in {rel(crate) if crate != ROOT else '.'}:")
            for module in component:
                for target, line in sorted(graph[module].items()):
                    if target in members:
                        print(
                            f"  {rel(modules[module])}:{line}: {show(module)} uses {show(target)}"
                            f" ({rel(modules[target])})"
                        )
    return violations


def check_lines():
    violations = 0
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8", errors="replace") as file:
                text = file.read()
            counted = without_tests(text) if name.endswith(".rs") else text
            lines = counted.count("\n") + (0 if counted.endswith("\n") or not counted else 1)
            if lines > MAX_LINES:
                violations += 1
                print(f"{rel(path)}: {lines} lines outside tests (at most {MAX_LINES})")
    return violations


def main(argv):
    checks = {"cycles": check_cycles, "lines": check_lines}
    wanted = argv or list(checks)
    total = 0
    for name in wanted:
        if name not in checks:
            print(f"unknown check {name!r}; known: {', '.join(checks)}", file=sys.stderr)
            return 2
        found = checks[name]()
        print(f"check {name}: {found} violation(s)")
        total += found
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
