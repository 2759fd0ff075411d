"""Where the library is looked for, and the error when it is not found.

The library is loaded once per process, so each case runs in a fresh
interpreter.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import bearer
from bearer import _native

BINDING = pathlib.Path(__file__).resolve().parents[1]
ROOT = BINDING.parent.parent

PROBE = """
import json, bearer
try:
    print(json.dumps({"version": bearer.version(), "path": str(bearer._native.library_path())}))
except bearer.LibraryNotFoundError as e:
    assert isinstance(e, bearer.BearerError) and isinstance(e, OSError)
    print(json.dumps({"error": str(e), "paths": [str(p) for p in e.paths]}))
"""


def probe(pythonpath, **env_changes):
    env = {k: v for k, v in os.environ.items() if k != "BEARER_LIBRARY"}
    env.update(env_changes)
    env["PYTHONPATH"] = str(pythonpath)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_this_checkout_finds_target_release():
    got = probe(BINDING / "src")
    expected = ROOT / "target" / "release" / "libbearer.so"
    if (BINDING / "src" / "bearer" / "libbearer.so").exists():
        expected = BINDING / "src" / "bearer" / "libbearer.so"
    assert pathlib.Path(got["path"]) == expected.resolve()
    assert got["version"] == bearer.version()


def test_bearer_library_set_to_a_missing_file(tmp_path):
    missing = tmp_path / "nowhere" / "libbearer.so"
    got = probe(BINDING / "src", BEARER_LIBRARY=str(missing))
    assert got["paths"] == [str(missing)]
    assert str(missing) in got["error"] and "BEARER_LIBRARY" in got["error"]


def test_bearer_library_wins(tmp_path):
    copy = tmp_path / "libbearer-copy.so"
    shutil.copy(_native.library_path(), copy)
    got = probe(BINDING / "src", BEARER_LIBRARY=str(copy))
    assert got["path"] == str(copy)


def test_a_file_that_is_not_a_library(tmp_path):
    fake = tmp_path / "libbearer.so"
    fake.write_text("not a shared object")
    got = probe(BINDING / "src", BEARER_LIBRARY=str(fake))
    assert got["error"].startswith(f"could not load the bearer library {fake}")


def test_nothing_found_names_every_path_tried(tmp_path):
    # A copy of the package outside any checkout and without a packaged library.
    pkg = tmp_path / "a" / "b" / "c" / "site"
    shutil.copytree(BINDING / "src" / "bearer", pkg / "bearer", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    got = probe(pkg)
    root = pkg.parents[2]
    expected = [
        pkg / "bearer" / "libbearer.so",
        root / "target" / "release" / "libbearer.so",
        root / "target" / "debug" / "libbearer.so",
    ]
    assert got["paths"] == [str(p) for p in expected]
    for p in expected:
        assert str(p) in got["error"]
    assert "BEARER_LIBRARY" in got["error"]


def test_wheel_ships_and_loads_the_library(tmp_path):
    """Builds a wheel with the library inside (offline, Debian's setuptools
    and wheel), installs it into a folder and loads the packaged copy."""
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if pip.returncode != 0:
        pytest.skip("pip is not installed (Debian: python3-pip)")
    src = tmp_path / "src"
    shutil.copytree(
        BINDING,
        src,
        ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "tests", "*.so"),
    )
    shutil.copy(_native.library_path(), src / "src" / "bearer" / "libbearer.so")
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(src)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list((tmp_path / "dist").glob("bearer-0.1.0-py3-none-*.whl"))
    assert len(wheels) == 1 and not wheels[0].name.endswith("-any.whl"), wheels
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheels[0])],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    got = probe(site)
    assert got["path"] == str(site / "bearer" / "libbearer.so")
    assert (site / "bearer" / "py.typed").exists()
