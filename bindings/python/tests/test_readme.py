"""The README's runnable examples, extracted and run as written.

Blocks fenced as ```python are run, each as its own script, in a folder
holding data_cosmos_api_credentials.json that points at the local server.
Blocks fenced as ```py are fragments (they need `requests` or a remote
API) and are not run.
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

BINDING = pathlib.Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"^```python\n(.*?)^```", (BINDING / "README.md").read_text(), flags=re.S | re.M)


def test_readme_has_runnable_examples():
    assert len(BLOCKS) >= 2
    assert "bearer.fetch_token(oauth_body)" in BLOCKS[0]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(server, tmp_path, index):
    cfg = server.auth0()
    (tmp_path / "data_cosmos_api_credentials.json").write_text(json.dumps(cfg))
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"), PYTHONDONTWRITEBYTECODE="1")
    before = server.stats()["auth0"]
    out = subprocess.run(
        [sys.executable, "-c", BLOCKS[index]], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert server.stats()["auth0"] - before == 1
    if index == 0:
        assert re.fullmatch(r"eyJ[\w-]+\.[\w-]+\.[\w-]+\n", out.stdout)
    else:
        assert out.stdout.startswith("Bearer eyJ")
