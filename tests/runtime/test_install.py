"""What a user installs: the lock files pin every runtime dependency with hashes, and the
built wheel with nothing but its locked runtime dependencies (no test extras, no source
tree) imports every module and serves the quick start (.ci/smoke.py), so that a runtime
import of an undeclared package fails here, not on a user's machine."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def locked(path: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """Package name -> [(version, hashes)] (one per marker-split entry)."""
    pins: dict[str, list[tuple[str, list[str]]]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        head = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", entry)
        if head:
            name = normalized(head.group(1))
            pins.setdefault(name, []).append((head.group(2), re.findall(r"sha256:\w+", entry)))
    return pins


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(r) for r in names]


def test_every_declared_dependency_is_pinned_with_hashes_in_the_locks() -> None:
    for lock, extra in (("requirements.lock", None), ("requirements-test.lock", "test")):
        pins = locked(ROOT / lock)
        assert pins, lock
        for name, entries in pins.items():
            for version, hashes in entries:
                assert hashes, f"{lock}: {name}=={version} has no hash"
        for requirement in declared(extra):
            name = normalized(requirement.name)
            assert name in pins, f"{lock} lacks {name}: run make lock"
            versions = [version for version, _ in pins[name]]
            assert any(requirement.specifier.contains(v) for v in versions), (
                f"{lock} pins {name}=={versions}, outside {requirement}: run make lock"
            )


def test_the_runtime_lock_holds_no_test_tool() -> None:
    runtime = locked(ROOT / "requirements.lock")
    for tool in ("pytest", "mypy", "ruff", "hypothesis", "deptry"):
        assert tool not in runtime


IMPORT_ALL = """
import importlib, pkgutil, sys
bad = []
package = importlib.import_module("askbase")
assert "site-packages" in package.__file__, package.__file__
for module in pkgutil.walk_packages(package.__path__, "askbase."):
    if True:
        try:
            importlib.import_module(module.name)
        except ImportError as error:
            bad.append(f"{module.name}: {error}")
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""


def test_the_wheel_with_its_locked_runtime_dependencies_alone_serves_the_quick_start(
    tmp_path: Path,
) -> None:
    uv = str(BIN / "uv")
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "-w", str(tmp_path / "dist"), str(ROOT)], check=True)
    wheel = next((tmp_path / "dist").glob("askbase-*.whl"))
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    install = [uv, "pip", "install", "-q", "--python", python, "--no-deps"]
    subprocess.run(
        [*install, "--require-hashes", "-r", str(ROOT / "requirements.lock")], check=True
    )
    subprocess.run([*install, str(wheel)], check=True)

    imported = subprocess.run(
        [python, "-c", IMPORT_ALL], cwd=tmp_path, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr

    smoke = subprocess.run(
        [python, str(ROOT / ".ci" / "smoke.py"), "--askbase", str(venv / "bin" / "askbase")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke: streamed" in smoke.stdout


def module_level_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """Top-level names imported when the module loads: outside functions and outside
    `if TYPE_CHECKING:` blocks."""
    found: list[tuple[str, int]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((alias.name.split(".")[0], node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((node.module.split(".")[0], node.lineno))
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return found


def test_optional_extras_are_imported_only_when_their_feature_is_used() -> None:
    """deptry (make lint) fails on runtime imports of test-only packages; this covers the
    optional extras, which deptry cannot tell from a lazy import inside a function."""
    distributions = importlib.metadata.packages_distributions()

    def modules(requirements: list[Requirement]) -> set[str]:
        names = {normalized(r.name) for r in requirements}
        return {m for m, dists in distributions.items() if names & {normalized(d) for d in dists}}

    base = declared()
    optional = {"llama_cpp"}  # the local-llm extra, also where it is not installed
    for extra in ("supabase", "otel", "local-llm"):
        optional |= modules(declared(extra)[len(base) :])
    runtime = modules(base)
    eager = []
    for folder in ("app", "schema", "resolvers", "database"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for module, line in module_level_imports(tree):
                if module in optional - runtime:
                    eager.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not eager, "import these inside the feature that needs them:\n" + "\n".join(eager)
