"""The library's layout: no import circle among nnplay's modules, and no module too long to read.

What lives here: every nnplay module's imports (module level and inside functions, relative ones resolved;
not those under ``if TYPE_CHECKING:``, which never run) walked with ``ast`` into a graph that must have no cycle; every file under ``nnplay/`` at most
``MAX_LINES`` lines. What does not: streamlit kept to ``nnplay/ui`` and the docstrings (test_structure.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nnplay"
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def nnplay_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(path: Path, modules: dict[str, Path]) -> set[str]:
    """The nnplay modules ``path`` imports anywhere in it (``from . import x`` counts x when x is a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in modules:  # "nnplay.jobs.JobSpec" → "nnplay.jobs"
            target = target.rpartition(".")[0]
        if target and target != name:
            found.add(target)

    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", getattr(block.test, "attr", None)) == "TYPE_CHECKING"
                   for n in ast.walk(block)}  # imports for annotations alone never run
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "nnplay":
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "nnplay":
                continue
            for alias in node.names:
                full = f"{source}.{alias.name}"
                add(full if full in modules else source)
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_among_nnplay_modules():
    modules = nnplay_modules()
    # a module importing names from its own package (``from . import Job``) is how a package is built: not a circle
    graph = {name: {m for m in imported(path, modules) if not name.startswith(m + ".")}
             for name, path in modules.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle)


def test_no_file_in_nnplay_is_over_the_line_limit():
    long = {p.relative_to(ROOT).as_posix(): n for p in PACKAGE.rglob("*")
            if p.is_file() and p.suffix in (".py", ".js", ".css", ".html")
            and (n := len(p.read_text(errors="replace").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"
