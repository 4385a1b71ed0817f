#!/usr/bin/env python3
"""Checks the layer diagram of DESIGN.md "Architecture" where Cargo cannot.

Cargo already refuses an edge between crates the wrong way (scim <- domain <- store <- the
application). Inside each crate this reads the `use` lines and paths (`crate::…`,
`super::…`, `self::…`) of every non-test source file and fails when

1. two modules import each other, directly or around a longer loop: an edge from
   `a::x` to `b::y` counts as `a -> b` between the children of their common parent,
   so sibling files form a graph of their own at every level;
2. a module of the application imports one of a higher layer (RANKS below);
3. a non-test source file (test modules at its end not counted) is over MAX_LINES;
4. the protocol crate depends on another project crate, or the domain crate on sqlx,
   axum, hyper or tokio (`cargo tree -e normal`, default features).

Usage: scripts/check-structure.py [--no-cargo]   (exit 1 and the findings when any fails)
"""

import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 700

# Layers of the application, low to high: a module may import its own layer or lower.
# http -> center -> store, cli -> center, tasks -> store (DESIGN.md); lib.rs and main.rs
# wire everything and sit above all.
RANKS = {
    "config": 0,
    "telemetry": 1,
    "server": 1,
    "tasks": 1,
    "center": 2,
    "http": 3,
    "cli": 3,
}

CRATES = {
    "scim": "crates/scim/src",
    "domain": "crates/domain/src",
    "store": "crates/store/src",
    "app": "src",
}

# The start of a file's test module: what follows is not counted or read.
TEST_TAIL = re.compile(r"^#\[cfg\(test\)\]\s*\n(pub(\(\w+\))? )?mod \w+", re.M)
PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)((?:::\w+)*)::\{", re.S)


def module_of(rel):
    """`patch/attribute.rs` -> ('patch', 'attribute'); `lib.rs` -> ()."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("lib", "main", "mod"):
        parts = parts[:-1]
    return tuple(parts)


def non_test_text(text):
    match = TEST_TAIL.search(text)
    return text[: match.start()] if match else text


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def is_test_file(rel):
    parts = rel.split(os.sep)
    return parts[-1] in ("tests.rs", "fixtures.rs") or "tests" in parts[:-1]


def group_paths(text, start):
    """The paths inside a `use …::{ … }` group opening at `start` (nested groups too)."""
    depth, i, prefix, out, item = 1, start, [""], [], ""
    while i < len(text) and depth:
        c = text[i]
        if c == "{":
            prefix.append(prefix[-1] + item.strip())
            item = ""
            depth += 1
        elif c == "}":
            if item.strip():
                out.append(prefix[-1] + item.strip())
            item = ""
            prefix.pop()
            depth -= 1
        elif c == ",":
            if item.strip():
                out.append(prefix[-1] + item.strip())
            item = ""
        else:
            item += c
        i += 1
    return [p.split(" as ")[0].strip() for p in out]


def references(module, text):
    """Absolute module paths (tuples) that `text`, inside `module`, names."""
    found = []

    def resolve(anchor, rest):
        names = [n for n in rest.split("::") if n]
        base = list(module)
        if anchor == "crate":
            base = []
        elif anchor == "super":
            base = base[:-1]
            while names and names[0] == "super":
                base = base[:-1]
                names = names[1:]
        found.append(tuple(base + names))

    for m in PATH.finditer(text):
        resolve(m.group(1), m.group(2))
    for m in USE_GROUP.finditer(text):
        for inner in group_paths(text, m.end()):
            resolve(m.group(1), m.group(2) + "::" + inner.replace(" ", ""))
    return found


def longest_module(path, modules):
    for n in range(len(path), -1, -1):
        if path[:n] in modules:
            return path[:n]
    return ()


def sccs(nodes, edges):
    """Tarjan's strongly connected components of size > 1."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def check_crate(name, src, problems):
    files = {}
    for dirpath, _, names in os.walk(os.path.join(ROOT, src)):
        for f in names:
            if f.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, f), os.path.join(ROOT, src))
                files[rel] = open(os.path.join(dirpath, f), encoding="utf-8").read()
    modules = {module_of(rel) for rel in files if not is_test_file(rel)}
    modules.add(())
    # Sibling edges at each level: parent -> {child -> {child, …}}
    graph = {}
    why = {}
    for rel, text in sorted(files.items()):
        if is_test_file(rel):
            continue
        body = non_test_text(text)
        lines = body.count("\n")
        if lines > MAX_LINES:
            problems.append(f"{src}/{rel}: {lines} non-test lines (at most {MAX_LINES})")
        here = module_of(rel)
        if rel == "main.rs":
            continue  # the binary sits above the library it wires
        for target in references(here, strip_comments(body)):
            there = longest_module(target, modules)
            common = 0
            while common < min(len(here), len(there)) and here[common] == there[common]:
                common += 1
            if common == len(here) or common == len(there):
                continue  # a module and its own ancestor or descendant
            parent, a, b = here[:common], here[common], there[common]
            graph.setdefault(parent, {}).setdefault(a, set()).add(b)
            why.setdefault((parent, a, b), f"{src}/{rel} names {'::'.join(target)}")
            if name == "app" and not parent:
                ra, rb = RANKS.get(a), RANKS.get(b)
                if ra is None or rb is None:
                    problems.append(f"{src}/{rel}: module `{a}` or `{b}` has no layer in RANKS")
                elif rb > ra:
                    problems.append(
                        f"upward import: `{a}` (layer {ra}) -> `{b}` (layer {rb}): {why[(parent, a, b)]}"
                    )
    for parent, edges in sorted(graph.items()):
        nodes = set(edges) | {b for bs in edges.values() for b in bs}
        for comp in sccs(nodes, edges):
            where = "::".join((name,) + parent)
            detail = "; ".join(
                why[(parent, a, b)] for a in comp for b in sorted(edges.get(a, ())) if b in comp
            )
            problems.append(f"import cycle in {where}: {' <-> '.join(comp)} ({detail})")
    return len(modules)


def check_cargo_tree(problems):
    def normal_deps(package):
        out = subprocess.run(
            ["cargo", "tree", "--locked", "-p", package, "-e", "normal", "--prefix", "none", "-f", "{p}"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout
        return {line.split()[0] for line in out.splitlines()[1:] if line.strip()}

    project = {"linkedin-scim", "linkedin-scim-domain", "linkedin-scim-store"}
    named = normal_deps("linkedin-scim-protocol") & project
    if named:
        problems.append(f"the protocol crate depends on project crates: {sorted(named)}")
    forbidden = normal_deps("linkedin-scim-domain") & {"sqlx", "axum", "hyper", "tokio"}
    if forbidden:
        problems.append(f"the domain crate depends on {sorted(forbidden)}")


def main():
    problems = []
    counts = {name: check_crate(name, src, problems) for name, src in CRATES.items()}
    if "--no-cargo" not in sys.argv:
        check_cargo_tree(problems)
    for p in problems:
        print(p)
    summary = ", ".join(f"{name} {n}" for name, n in counts.items())
    if problems:
        print(f"structure: {len(problems)} problem(s); modules per crate: {summary}")
        return 1
    print(f"structure: no import cycle, no upward import, no file over {MAX_LINES} lines; modules per crate: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
