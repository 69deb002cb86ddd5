"""An installed wheel works: built from the project, installed (not editable) into a fresh venv outside the
repository, ``rst demo`` runs from there to the end and builds gold with the contracts shipped in the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rst.demo import DEMO_PARENTS
from rst.framework.lake import Lake, Layer
from rst.framework.verify import partition_dirs


def run(cmd: list[str | Path], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; on failure the assertion shows its stderr."""
    proc = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_to_gold(
    tmp_path: Path, project_copy: Path, uv_exe: Path, clean_env: dict[str, str]
) -> None:
    project = project_copy
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    run([uv_exe, "build", "--wheel", "--out-dir", dist, project], clean_env, elsewhere)
    (wheel,) = dist.glob("rst-*.whl")
    run([uv_exe, "venv", "--quiet", "--python", sys.executable, venv], clean_env, elsewhere)
    # the locked dependencies (from uv's cache), then the wheel itself, not editable
    deps_env = {**clean_env, "UV_PROJECT_ENVIRONMENT": str(venv)}
    run([uv_exe, "sync", "--locked", "--no-dev", "--no-install-project", "--quiet"], deps_env, project)
    run([uv_exe, "pip", "install", "--quiet", "--no-deps", "--python", venv / "bin" / "python", wheel],
        clean_env, elsewhere)
    where = run([venv / "bin" / "python", "-c", "import rst; print(rst.__file__)"], clean_env, elsewhere)
    assert Path(where.stdout.strip()).is_relative_to(venv), "rst must come from the installed wheel"

    lake_root = tmp_path / "lake"
    demo = subprocess.run([venv / "bin" / "rst", "demo", "--lake", lake_root], env=clean_env, cwd=elsewhere,
                          capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr[-3000:]
    lake = Lake(lake_root)
    gold = list(partition_dirs(lake, [Layer.GOLD]))
    for parent in DEMO_PARENTS:
        assert any(p.is_relative_to(lake.parent_dir(Layer.GOLD, parent)) for p in gold), f"no gold for {parent}"
