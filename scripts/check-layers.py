#!/usr/bin/env python3
"""The import graph of src/: layers point one way, and sibling modules import no circle.

Reads every `crate::a::b` and `super::b` path in src/ (test modules left out) and checks:
  1. no edge from a lower layer to a higher one (LAYERS below, style.md rule 18);
  2. no cycle among modules but a parent and its own children (at the depth of
     `src/<top>/<child>`).
Edges listed in KNOWN are reported but do not fail: each names the work left to remove it.
A known edge that no longer exists fails too, so the list only ever shrinks.
Exit 0 when clean, 1 otherwise. Run by .ci/run.
"""
import os
import re
import sys
from collections import defaultdict

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# Higher may import lower; one layer's modules may import each other (without a cycle).
LAYERS = {
    "main": 5, "lib": 5, "cli": 5, "demo": 5, "startup": 5,
    "http": 4, "connections": 4,
    "service": 3, "error": 3,
    "cluster": 2,
    "store": 1, "policy": 1, "value": 1,
    "domain": 0, "error_code": 0, "svg_chart": 0, "money": 0, "metrics": 0, "telemetry": 0, "log_buffer": 0,
}
# Edges the layers allow but the design does not: http reaches storage only through the
# service; storage and the engines (policy, value) are beside each other, not on top.
FORBIDDEN = {("http", "store"), ("store", "policy"), ("store", "value"),
             ("policy", "store"), ("value", "store")}
# Edges that break a rule today, with what removes them (none left).
KNOWN = {}


def node_of(rel):
    """`service/import/ndjson` -> `service/import`; `money` -> `money`; `store/mod` -> `store`."""
    parts = rel.split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    return "/".join(parts[:2])


def strip_tests(text):
    return re.split(r"#\[cfg\(test\)\]", text)[0]


def edges():
    out = defaultdict(set)  # node -> {(target node, file)}
    for root, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, SRC)[:-3]
            here = node_of(rel)
            parts = rel.split("/")
            module = parts[:-1] if parts[-1] == "mod" else parts
            text = strip_tests(open(path, encoding="utf-8").read())
            for m in re.finditer(r"\bcrate::([a-z_]+)(?:::([a-z_]+))?", text):
                top, child = m.group(1), m.group(2)
                is_dir = os.path.isdir(os.path.join(SRC, top))
                target = f"{top}/{child}" if is_dir and child and os.path.exists(
                    os.path.join(SRC, top, child + ".rs")) or (is_dir and child and os.path.isdir(
                        os.path.join(SRC, top, child))) else top
                if target != here:
                    out[here].add((target, rel))
            for m in re.finditer(r"\b((?:super::)+)([a-z_]+)", text):
                ups = m.group(1).count("super::")
                base = module[: len(module) - ups]
                target = node_of("/".join(base + [m.group(2)])) if base else m.group(2)
                if not os.path.exists(os.path.join(SRC, *(base + [m.group(2)])) + ".rs") and \
                        not os.path.isdir(os.path.join(SRC, *(base + [m.group(2)]))):
                    target = node_of("/".join(base)) if base else "lib"
                if target != here:
                    out[here].add((target, rel))
    return out


def top(node):
    return node.split("/")[0]


def main():
    graph = edges()
    problems, known_seen = [], set()
    for a, targets in sorted(graph.items()):
        for b, file in sorted(targets):
            ta, tb = top(a), top(b)
            if ta == tb:
                continue
            la, lb = LAYERS.get(ta), LAYERS.get(tb)
            if la is None or lb is None:
                problems.append(f"{file}: `{ta}` or `{tb}` has no layer in scripts/check-layers.py")
                continue
            bad = la < lb or (ta, tb) in FORBIDDEN
            if not bad:
                continue
            if (ta, tb) in KNOWN:
                known_seen.add((ta, tb))
                continue
            problems.append(f"{file}: `{ta}` (layer {la}) imports `{tb}` (layer {lb})")
    for edge, why in sorted(KNOWN.items()):
        if edge in known_seen:
            print(f"known, to remove: {edge[0]} -> {edge[1]}: {why}")
        else:
            problems.append(f"{edge[0]} -> {edge[1]} is gone: delete it from KNOWN")
    # Cycles among siblings: strongly connected components, parent/child edges left out.
    nodes = set(graph) | {b for t in graph.values() for b, _ in t}
    adj = {n: set() for n in nodes}
    for a, targets in graph.items():
        for b, _ in targets:
            if top(a) == top(b) and ("/" not in a or "/" not in b):
                continue  # a parent and its own child
            adj[a].add(b)
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
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
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    for comp in sccs:
        problems.append("import cycle: " + " -> ".join(comp))
    for p in problems:
        print(p)
    print(f"{sum(len(t) for t in graph.values())} imports between modules, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
