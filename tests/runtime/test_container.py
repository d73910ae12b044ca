"""The Dockerfile, without Docker (no engine runs here): hadolint lints it, then its steps
are carried out as written, a wheel built from exactly the files its build stage copies,
installed apart from the source tree, the runtime stage's files and environment, and the
result serves against PostgreSQL and passes the image's own HEALTHCHECK command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import JWT_SECRET, free_socket, stop_process, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# No site module (so no editable install of the source tree) and no current directory on
# the path: imports come only from PYTHONPATH, as in the image's virtual environment.
PYTHON = [sys.executable, "-S", "-P"]


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    split: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            split.append([])
        split[-1].append((keyword, rest))
    return split


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(BIN / "hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_images_steps_build_a_server_that_passes_its_healthcheck(
    pg_dsn: str, tmp_path: Path
) -> None:
    build, runtime = stages()
    assert " AS " in build[0][1] and runtime[0][0] == "FROM"
    # Build stage: the files it copies, and nothing else, make the wheel.
    src = tmp_path / "src"
    src.mkdir()
    for keyword, rest in build:
        if keyword == "COPY":
            *sources, _target = rest.split()
            for name in sources:
                path = ROOT / name
                if path.is_dir():
                    shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(path, src / name)
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "wheel", src],
        check=True,
    )
    wheel = next((tmp_path / "wheel").glob("askbase-*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", site, wheel], check=True)

    # Runtime stage: its COPY of the widget, its ENV, its user's home for the data dir.
    srv = tmp_path / "srv"
    env: dict[str, str] = {}
    for keyword, rest in runtime:
        if keyword == "COPY" and not rest.startswith("--from"):
            name, target = rest.split()
            shutil.copytree(ROOT / name, srv / Path(target).name)
        if keyword == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
    command = json.loads(next(rest for k, rest in runtime if k == "CMD"))
    healthcheck = next(rest for k, rest in runtime if k == "HEALTHCHECK")
    probe = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert command == ["askbase", "serve"] and probe[0] == "python"

    with free_socket() as sock:
        port = sock.getsockname()[1]
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        **env,
        # Where the image has them: the installed package first, then its dependencies.
        "PYTHONPATH": f"{site}{os.pathsep}{_dependencies()}",
        "WIDGET_DIR": str(srv / "widget"),
        "ASKBASE_DATA_DIR": str(tmp_path / "data"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": pg_dsn,
        "SUPABASE_JWT_SECRET": JWT_SECRET,
    }
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [
            *PYTHON,
            "-c",
            "import sys; from askbase.app.cli.main import main; sys.exit(main())",
            "serve",
        ],
        cwd=srv,
        env=environment,
        stdout=log,
        stderr=log,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process, health="/health", log=tmp_path / "serve.log")
        check = subprocess.run(
            [sys.executable, *probe[1:]], env=environment, capture_output=True, timeout=10
        )
        assert check.returncode == 0, check.stderr
        assert httpx.get(url + "/widget/chat-widget.js").status_code == 200
        assert httpx.get(url + "/console/").status_code == 200  # the package carries it
        body = httpx.post(url + "/graphql", json={"query": "{ health { ok database version } }"})
        assert body.json()["data"]["health"]["database"] is True
        imported = subprocess.run(
            [*PYTHON, "-c", "import askbase; print(askbase.__file__)"],
            env=environment,
            cwd=srv,
            capture_output=True,
            text=True,
        )
        assert imported.stdout.startswith(str(site)), "served from the built wheel"
    finally:
        stop_process(process)
        log.close()


def _dependencies() -> str:
    """This environment's site-packages, for the dependencies pip installs in the image."""
    import sysconfig

    return sysconfig.get_paths()["purelib"]
