"""The docs stay where a reader looks for them: a short README, the deeper pages in docs/, measurement
stories (dated figures, medians, ratios of runs) in docs/benchmarks.md and the commit messages, never in
a code comment or docstring of nnplay/, pages/ or app.py."""

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC_PAGES = ("runs-and-store.md", "workers-and-ray.md", "export.md", "benchmarks.md", "data.md", "many-runs.md", "cli.md", "classroom.md", "testing.md", "handwriting.md", "papers.md")
README_MAX_LINES = 200

_NUMBER_WORDS = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twenty)"
STORY = {
    "a median": re.compile(r"\bmedians?\b", re.I),
    "a date": re.compile(r"\b20\d\d-\d\d-\d\d\b"),
    # a ratio, not a product: "1.29× the command line's" is one, "0.5×0.2" is not
    "a ratio range (N–M×)": re.compile(r"\d+(?:\.\d+)?\s*[–-]\s*\d+(?:\.\d+)?\s*×(?!\s*\d)"),
    "a measured ratio (N.N×)": re.compile(r"\b\d+\.\d+\s*×(?!\s*\d)"),
    "a count of runs (in N runs)": re.compile(rf"\bin (?:the )?{_NUMBER_WORDS} (?:runs|rounds)\b", re.I),
    "where it was measured (measured … N cores)": re.compile(r"\bmeasured\b[^.]*\b\d+[- ]cores?\b", re.I),
    "the machine it was timed on (on N cores)": re.compile(r"\bon (?:a |the |this project's )?\d+[- ]cores?\b", re.I),
    "a range of timings or sizes (N–M ms)": re.compile(r"\d+(?:\.\d+)?\s*[–-]\s*\d+(?:\.\d+)?\s*(?:ms|s|MB|kB|KB)\b"),
    "a before/after figure (N ms against M ms)": re.compile(r"\d\s*(?:ms|s|MB|kB|KB)\s+against\s+~?\d"),
}


def story(text: str) -> str | None:
    """What makes ``text`` a measurement story, or None."""
    for what, pattern in STORY.items():
        if pattern.search(text):
            return what
    return None


def python_comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every comment and every docstring (module, class, function, attribute) in ``source``."""
    found = [(tok.start[0], tok.string) for tok in tokenize.generate_tokens(io.StringIO(source).readline)
             if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.append((node.lineno, node.value.value))
    return found


def js_comments(source: str) -> list[tuple[int, str]]:
    """(line, text) of every ``//`` and ``/* */`` comment in ``source`` (a ``//`` inside a URL is not one)."""
    found = [(n, m.group(1)) for n, line in enumerate(source.splitlines(), 1)
             for m in [re.search(r"(?:^|\s)//(.*)$", line)] if m]
    found += [(source.count("\n", 0, m.start()) + 1, m.group(1)) for m in re.finditer(r"/\*(.*?)\*/", source, re.S)]
    return found


def code_files() -> list[Path]:
    return sorted([*(ROOT / "nnplay").rglob("*.py"), *(ROOT / "nnplay").rglob("*.js"),
                   *(ROOT / "pages").glob("*.py"), ROOT / "app.py"])


def stories_in(path: Path, source: str) -> list[str]:
    """Every comment or docstring of ``path`` (its text ``source``) that tells a measurement story."""
    comments = js_comments(source) if path.suffix == ".js" else python_comments(source)
    out = []
    for line, text in comments:
        # a docstring's sentences may wrap: look at its lines joined
        what = story(" ".join(text.split()))
        if what:
            out.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    return out


def test_no_code_comment_or_docstring_tells_a_measurement_story():
    found = [s for path in code_files() for s in stories_in(path, path.read_text())]
    assert not found, ("a comment says in one line why, and names the benchmark that measures it; the figures "
                       "go to docs/benchmarks.md:\n" + "\n".join(found))


def test_the_story_check_catches_the_stories_it_is_for():
    # comments as they stood before the lab notebook moved out of the code
    stories = [
        "# with 10 here, an epoch of seed-mlp on the page was 1.1–1.6× the command line's, with 25 0.98–1.44× in six",
        "// with 10 here, an epoch was 1.1–1.6× the command line's, with 25 0.98–1.44× in six runs",
        '"""measured on the Train page with 2 cores: an empty 0.4 s fragment alone made an epoch 1.29× the CLI\'s"""',
        "# worker of several threads loses about twice that. Measured with 2 cores: the browser and the server "
        "took 0.31 of a core beside the run instead of 0.40",
        '"""reload to live 1.50 s median (1.27–1.79 s)"""',
        "# On this project's 2-core machine (2026-11-30): the 8 runs together trained 1.38–1.91× one run alone",
        '"""about 0.2 s of its main thread on every load, folded or not (measured in Chromium on 2 cores)"""',
    ]
    for text in stories:
        source = f"x = 1\n{text}\n" if not text.startswith("//") else text
        path = ROOT / ("nnplay/ui/live_run.js" if text.startswith("//") else "nnplay/example.py")
        assert stories_in(path, source), f"not caught: {text}"
    # and what a comment may say
    fine = [
        '"""Diverged: above both ``max_loss`` and 10× the first step\'s loss."""',
        "# the view fetches its snapshot every 0.48 s on a fixed beat: 2.08 times a second",
        "# every 3 s at most while the cores are full: scripts/bench_train_page.py",
        '"""redrawn at most every 25× the time their last drawing took (HEAVY_REST)."""',
        "# The thresholds. Measured by scripts/measure_draw_hints.py on the 10,000 MNIST test digits",
        '"""The smallest 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 × a power of ten that is ≥ value."""',
        "# a drawing 19×242 px wide; a 4096×784 layer is 12.8 MB",
        '"""The sum with its numbers, e.g. "1×0.1 + 0.5×0.2 + 0.1 = 0.3"."""',
        "// a URL in code: fetch('http://localhost:8501/x') is not a comment",
    ]
    for text in fine:
        path = ROOT / ("nnplay/ui/live_run.js" if text.startswith("//") else "nnplay/example.py")
        source = text if text.startswith("//") else f"x = 1\n{text}\n"
        assert not stories_in(path, source), f"flagged, but it is no story: {text}"


def test_the_readme_is_short_and_its_docs_pages_exist():
    readme = (ROOT / "README.md").read_text()
    lines = readme.count("\n") + (not readme.endswith("\n"))
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; the deeper parts go in docs/"
    for page in DOC_PAGES:
        assert f"docs/{page}" in readme, f"README.md does not link docs/{page}"
    links = re.findall(r"\]\((docs/[^)#\s]+)", readme)
    assert links, "README.md links no page of docs/"
    missing = sorted({link for link in links if not (ROOT / link).is_file()})
    assert not missing, f"README.md links pages that do not exist: {missing}"


def test_the_docs_pages_link_only_pages_that_exist():
    for page in DOC_PAGES:
        text = (ROOT / "docs" / page).read_text()
        for link in re.findall(r"\]\(([\w.-]+\.md)", text):
            assert (ROOT / "docs" / link).is_file(), f"docs/{page} links {link}, which does not exist"


def test_dated_figures_live_in_the_benchmarks_page_only():
    dated = re.compile(r"\b20\d\d-\d\d-\d\d\b")
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        if path.name != "benchmarks.md":
            assert not dated.search(path.read_text()), f"{path.relative_to(ROOT)} holds a dated figure"
    assert dated.search((ROOT / "docs" / "benchmarks.md").read_text()), "docs/benchmarks.md dates no figure"


def _readme_section(title: str) -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index(f"## {title}\n")
    end = readme.find("\n## ", start + 1)
    return readme[start:] if end < 0 else readme[start:end]


def test_the_readme_settings_table_is_nnplay_settings():
    from nnplay.settings import SETTINGS

    section = _readme_section("Settings")
    rows = {m.group(1): [c.strip() for c in m.group(2).split(" | ")]
            for m in re.finditer(r"^\| `(NNPLAY_[A-Z_]+)` \| (.+) \|$", section, re.M)}
    for s in SETTINGS.values():
        assert rows.get(s.name) == [s.accepts, s.default_text, s.doc], (
            f"README.md's settings row for {s.name} is not nnplay.settings.SETTINGS' (accepts, default, doc)")
    tools_only = {"NNPLAY_CHROMIUM", "NNPLAY_GPU_CHECK_CPU"}
    assert set(rows) == set(SETTINGS) | tools_only, sorted(set(rows) ^ (set(SETTINGS) | tools_only))
    assert "exit" in section and "status 2" in section, "the README says a bad setting stops the CLI (exit 2)"


def test_the_readme_layout_names_every_module_of_nnplay():
    section = _readme_section("How it works")
    rows = dict(re.findall(r"^\| `nnplay/([\w/]*)`[^|]*\| (.+) \|$", section, re.M))
    packages = {p.name for p in (ROOT / "nnplay").iterdir() if (p / "__init__.py").is_file()}
    flat = {p.stem for p in (ROOT / "nnplay").glob("*.py")} - {"__init__", "__main__"}
    missing = [f"nnplay/{m}.py" for m in sorted(flat) if f"`{m}`" not in rows.get("", "")]
    for package in sorted(packages):
        row = rows.get(f"{package}/", "")
        modules = [p.stem for p in (ROOT / "nnplay" / package).glob("*.py")] + ["live_run"] * (package == "ui")
        missing += [f"nnplay/{package}/{m}" for m in sorted(modules) if m != "__init__" and f"`{m}" not in row]
        if package not in flat:
            assert row, f"README.md's layout table has no row for nnplay/{package}/"
    assert not missing, f"README.md's 'How it works' table does not name: {missing}"
    # every lowercase name in the table is a module, or a function defined in nnplay (``smooth``)
    named = {n for row in rows.values() for n in re.findall(r"`([a-z_]+)`", row)}
    modules = flat | {m.stem for p in packages for m in (ROOT / "nnplay" / p).glob("*.py")}
    source = "\n".join(path.read_text() for path in (ROOT / "nnplay").rglob("*.py"))
    gone = sorted(n for n in named - modules if not re.search(rf"^\s*def {n}\(", source, re.M))
    assert not gone, f"README.md's layout table names modules or functions that do not exist: {gone}"


OLD_NAMES = ("ui.session", "jobs/worker.py", "`worker`", "run_here", "figures.watch.WatchView",
             "figures.watch.CALM_WATCH_S", "kept_setting", "keep_setting", "checkpoint.run_", "seed notes",
             "seed 00", "StoredSweep")


def test_the_docs_name_no_module_or_word_that_is_gone():
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = path.read_text()
        found = [name for name in OLD_NAMES if name.lower() in text.lower()]
        assert not found, f"{path.relative_to(ROOT)} still says {found}"
