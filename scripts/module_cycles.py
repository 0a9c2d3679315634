#!/usr/bin/env python3
"""Import edges between the top-level modules of src/ and the cycles among them.

An edge A -> B is any `use crate::B...`, `crate::B::` or `super::B` (from a file directly
under A) in the code of module A (src/A.rs or src/A/**). Comments and doc comments are
skipped, so a doc link is not an import. Prints the edges, then every strongly connected
group of more than one module (a cycle); exits 1 if there is one.
Usage: scripts/module_cycles.py [SRC_DIR]
"""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
top = {}  # module -> files
for entry in sorted(os.listdir(src)):
    path = os.path.join(src, entry)
    if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
        top[entry[:-3]] = [path]
    elif os.path.isdir(path):
        top[entry] = [os.path.join(r, f) for r, _, fs in os.walk(path) for f in fs if f.endswith(".rs")]

edges = {m: set() for m in top}
for mod, files in top.items():
    for f in files:
        for line in open(f, encoding="utf-8"):
            code = line.split("//", 1)[0]
            for other in re.findall(r"\bcrate::(\w+)", code):
                if other in top and other != mod:
                    edges[mod].add(other)
            # `use crate::{a, b::c}` groups
            for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
                for other in re.findall(r"(?:^|,)\s*(\w+)", group):
                    if other in top and other != mod:
                        edges[mod].add(other)
            # `super::x` from a file directly under src/<mod>.rs names a sibling top module
            if os.path.dirname(f) == src:
                for other in re.findall(r"\bsuper::(\w+)", code):
                    if other in top and other != mod:
                        edges[mod].add(other)

for m in sorted(edges):
    print(f"{m} -> {', '.join(sorted(edges[m])) or '(nothing)'}")

# Tarjan's strongly connected components
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        sccs.append(sorted(comp))
for v in sorted(edges):
    if v not in index:
        visit(v)
cycles = [c for c in sccs if len(c) > 1]
print()
if not cycles:
    print("no cycles")
for c in cycles:
    inner = [f"{a} -> {b}" for a in c for b in sorted(edges[a]) if b in c]
    print(f"cycle among {{{', '.join(c)}}}: {'; '.join(inner)}")
sys.exit(1 if cycles else 0)
