"""The shape of the project: a headless library, pages registered at their URLs, CI running the README's command."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_only_the_ui_package_imports_streamlit():
    offenders = []
    for path in (ROOT / "nnplay").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("streamlit", "streamlit_drawable_canvas") for n in names):
                offenders.append(path.relative_to(ROOT / "nnplay").as_posix())
    assert offenders, "the ui package should be the one place that imports streamlit"
    assert all(p.startswith("ui/") for p in offenders), f"streamlit imported outside nnplay/ui: {offenders}"


def test_every_module_has_a_docstring():
    for path in list((ROOT / "nnplay").rglob("*.py")) + list((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]:
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} has no module docstring"


def test_every_page_file_is_registered_at_its_url():
    app = (ROOT / "app.py").read_text()
    for page in (ROOT / "pages").glob("*.py"):
        assert f'("{page.name}",' in app, f"{page.name} is not registered in app.py"


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert match, "README.md has no test command block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command_verbatim():
    command = readme_test_command()
    assert command in (ROOT / ".ci" / "run").read_text()


def test_long_lived_objects_are_frozen_once_per_process_by_app_py():
    def calls(path: Path) -> bool:
        tree = ast.parse(path.read_text())
        return any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "freeze_long_lived_objects"
                   for n in ast.walk(tree))

    assert calls(ROOT / "app.py")  # whichever page a session opens first, app.py runs before it
    assert not [p.name for p in (ROOT / "pages").glob("*.py") if calls(p)]
