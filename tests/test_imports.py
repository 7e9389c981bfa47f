"""Imports flow one way: thresher/ (the shared core) ← spark_jobs/, models/, plugins/ ← dags/,
bench/; and no module imports itself back through a circle. Read from the source (every
import statement, including those inside functions), so a lazy import counts too."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO

# Folder → the top-level package its modules are imported as.
FOLDERS = {
    "thresher": "thresher",
    "spark_jobs": "spark_jobs",
    "models": "models",
    "plugins/thresher_tasks": "thresher_tasks",
    "dags": "dags",
    "bench": "bench",
}
# What each package may import (besides itself and third-party code).
ALLOWED = {
    "thresher": set(),
    "spark_jobs": {"thresher"},
    "models": {"thresher"},
    "thresher_tasks": {"thresher"},
    "dags": {"thresher", "thresher_tasks", "spark_jobs", "models"},
    "bench": {"thresher", "thresher_tasks", "spark_jobs", "models"},
}


def module_name(path: Path, base: Path, package: str) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def import_graph(root: Path = REPO) -> dict[str, set[str]]:
    """Module → first-party modules it imports (``from a import b`` counts ``a`` and ``a.b``)."""
    graph: dict[str, set[str]] = defaultdict(set)
    known = set(FOLDERS.values())
    for folder, package in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            name = module_name(path, root / folder, package)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets: list[str] = []
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                graph[name] |= {t for t in targets if t.split(".")[0] in known}
    return graph


def resolve(target: str, known: set[str]) -> str | None:
    """The module an import refers to (``a.b.func`` → ``a.b``)."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def test_packages_import_only_downwards():
    graph = import_graph()
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if (src := module.split(".")[0]) != (dst := target.split(".")[0])
        and dst not in ALLOWED[src]
    )
    assert wrong == []


def test_no_module_imports_itself_back():
    graph = import_graph()
    known = set(graph)
    edges = {
        m: {r for t in targets if (r := resolve(t, known)) and r != m and not m.startswith(r + ".")}
        for m, targets in graph.items()
    }
    cycles = _cycles(edges)
    assert cycles == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_checks_catch_a_wrong_import(tmp_path):
    """The two checks above can fail: a core module importing a Spark job, and a circle."""
    for folder in FOLDERS:
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "thresher" / "core.py").write_text("def f():\n    from spark_jobs import job\n")
    (tmp_path / "spark_jobs" / "job.py").write_text("from spark_jobs.other import x\n")
    (tmp_path / "spark_jobs" / "other.py").write_text("import spark_jobs.job\n")
    graph = import_graph(tmp_path)
    assert "spark_jobs.job" in graph["thresher.core"]
    edges = {m: {resolve(t, set(graph)) for t in ts} - {None} for m, ts in graph.items()}
    assert _cycles(edges) == [["spark_jobs.job", "spark_jobs.other"]]


BLOCKER = """
import importlib, pkgutil, sys
BLOCKED = ("pyspark", "delta", "airflow", "great_expectations", "spark_jobs", "thresher_tasks")
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not in the GPU image")
sys.meta_path.insert(0, Blocker())
import models, thresher
for package in (thresher, models):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
print("ok")
"""


def test_model_tasks_import_nothing_the_gpu_image_lacks():
    """The GPU image (docker/Dockerfile.gpu) holds thresher/ and models/ with the core and
    "ml" dependencies: every module of both imports without Spark, Airflow or GX."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", BLOCKER], cwd=REPO, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
