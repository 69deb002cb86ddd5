"""The README's setup works on a Python that refuses ``pip install`` (PEP 668 ``EXTERNALLY-MANAGED``).

The test builds such a Python the way Debian ships it: the interpreter copied next to a stdlib folder (links to
the real one's modules) that holds an ``EXTERNALLY-MANAGED`` file and no ``ensurepip`` (no ``python3-venv``), and
checks that pip in it really refuses. It then runs the setup half of the README's demo command with that Python
standing in for ``python3``, in a copy of the project, and checks the demo starts from the ``.venv`` it made.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from rst.framework.contract import SCHEMAS_ENV

REPO = Path(__file__).resolve().parents[2]
MARKER = "[externally-managed]\nError=To install Python packages system-wide, try apt install python3-xyz.\n"


def debian_like_python(root: Path) -> Path:
    """A ``python3`` whose stdlib carries ``EXTERNALLY-MANAGED`` and lacks ``ensurepip``, like stock Debian's."""
    base_prefix = Path(sys.base_prefix)
    stdlib = Path(sysconfig.get_path("stdlib", vars={"installed_base": sys.base_prefix, "base": sys.base_prefix}))
    lib = root / stdlib.relative_to(base_prefix)
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name not in ("ensurepip", "site-packages", "EXTERNALLY-MANAGED"):
            (lib / entry.name).symlink_to(entry)
    (lib / "site-packages").mkdir()
    (lib / "EXTERNALLY-MANAGED").write_text(MARKER)
    python = root / "bin" / "python3"
    python.parent.mkdir()
    python.write_bytes(Path(sys._base_executable).resolve().read_bytes())  # type: ignore[attr-defined]
    python.chmod(0o755)
    return python


def pip_wheel() -> Path:
    """pip as a wheel (importable from ``PYTHONPATH``): the one ``ensurepip`` bundles."""
    stdlib = Path(sysconfig.get_path("stdlib", vars={"installed_base": sys.base_prefix, "base": sys.base_prefix}))
    wheels = sorted((stdlib / "ensurepip" / "_bundled").glob("pip-*.whl"))
    if not wheels:
        pytest.skip("the base Python bundles no pip wheel to prove the marker with")
    return wheels[-1]


def readme_demo_command() -> tuple[str, str]:
    """The README's first command, split into its setup half and the demo half."""
    readme = (REPO / "README.md").read_text()
    match = re.search(r"^    (python3 .+?) && (.*rst demo .*)$", readme, re.MULTILINE)
    assert match, "README has no `python3 … && … rst demo …` command"
    return match.group(1), match.group(2)


@pytest.mark.slow
def test_readme_setup_works_on_an_externally_managed_python(
    tmp_path: Path, project_copy: Path, clean_env: dict[str, str]
) -> None:
    python = debian_like_python(tmp_path / "debian-python")
    env = {**clean_env, "PATH": f"{python.parent}{os.pathsep}{clean_env.get('PATH', '')}", "UV_COMPILE_BYTECODE": "0"}
    env.pop(SCHEMAS_ENV, None)
    pip = subprocess.run([python, "-m", "pip", "install", "--no-index", "uv"], capture_output=True, text=True,
                         env={**env, "PYTHONPATH": str(pip_wheel())})
    assert pip.returncode != 0 and "externally-managed-environment" in pip.stderr, "the marker must make pip refuse"

    setup, demo = readme_demo_command()
    argv = shlex.split(setup)
    assert argv[0] == "python3"
    proc = subprocess.run([str(python), *argv[1:]], cwd=project_copy, env=env, capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0 and "cannot download uv" in proc.stderr:
        pytest.skip(f"package index unreachable: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = (project_copy / ".venv" / "pyvenv.cfg").read_text()
    assert f"home = {python.parent}" in cfg, "the .venv must be built on the user's python3"

    demo_argv = shlex.split(demo)
    assert demo_argv[:2] == [".venv/bin/rst", "demo"]
    started = subprocess.run([project_copy / demo_argv[0], "demo", "--help"], cwd=project_copy, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0 and "--lake" in started.stdout, started.stderr
