"""The README's runnable examples, extracted and run as written.

Blocks fenced as ```python are run; blocks fenced as ```py are fragments
(they need `requests` or a remote API) and are not run.

- The token examples run each as its own script, in a folder holding
  data_cosmos_api_credentials.json that points at the local server.
- The web app's sign-in (the block defining `login` and `callback`) is
  executed as a module with `config` set, then driven like a web framework
  would: a dict as the session, the test as the browser.
- The private_key_jwt script runs in a folder holding jwt_client.json
  (the repository's test key, the local server's token endpoint).
- The device script runs in a folder holding device_app.json; the test
  reads the code it prints and approves it as the user would.
- The loopback script runs in a folder holding native_app.json; the test
  reads the URL it prints and plays the browser.
"""

import base64
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import KEYS, browse, get, post

BINDING = pathlib.Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"^```python\n(.*?)^```", (BINDING / "README.md").read_text(), flags=re.S | re.M)
WEB = [b for b in BLOCKS if "def callback(" in b]
LOOPBACK = [b for b in BLOCKS if "LoopbackLogin(" in b]
JWT = [b for b in BLOCKS if "jwt_client.json" in b]
DEVICE = [b for b in BLOCKS if "DeviceLogin" in b]
TOKEN = [b for b in BLOCKS if b not in WEB and b not in LOOPBACK and b not in JWT and b not in DEVICE]
ENV = dict(os.environ, PYTHONPATH=str(BINDING / "src"), PYTHONDONTWRITEBYTECODE="1")


def test_readme_has_runnable_examples():
    assert len(TOKEN) >= 2 and len(WEB) == 1 and len(LOOPBACK) == 1 and len(JWT) == 1 and len(DEVICE) == 1
    assert "bearer.fetch_token(oauth_body)" in TOKEN[0]


@pytest.mark.parametrize("index", range(len(TOKEN)))
def test_readme_example_runs(server, tmp_path, index):
    cfg = server.auth0()
    (tmp_path / "data_cosmos_api_credentials.json").write_text(json.dumps(cfg))
    before = server.stats()["auth0"]
    out = subprocess.run(
        [sys.executable, "-c", TOKEN[index]], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert server.stats()["auth0"] - before == 1
    if index == 0:
        assert re.fullmatch(r"eyJ[\w-]+\.[\w-]+\.[\w-]+\n", out.stdout)
    else:
        assert out.stdout.startswith("Bearer eyJ")


def test_readme_private_key_jwt_runs(server, tmp_path):
    cfg = {
        "client_id": "jwt-client",
        "client_auth": "private_key_jwt",
        "private_key_file": str(KEYS / "rsa.key"),
        "audience": "https://beeapp.open-cosmos.com",
        "token_url": server.base + "/oauth/token",
    }
    (tmp_path / "jwt_client.json").write_text(json.dumps(cfg))
    out = subprocess.run([sys.executable, "-c", JWT[0]], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    payload = out.stdout.strip().split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"] == "jwt-client@clients"


def test_readme_device_sign_in_runs(server, tmp_path):
    cfg = {
        "client_id": "native-client",
        "grant_type": "device_code",
        "device_authorization_url": server.base + "/oauth/device/code?interval=0",
        "token_url": server.base + "/oauth/token",
        "audience": "https://beeapp.open-cosmos.com",
        "scope": "openid offline_access",
    }
    (tmp_path / "device_app.json").write_text(json.dumps(cfg))
    proc = subprocess.Popen(
        [sys.executable, "-c", DEVICE[0]], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = proc.stdout.readline()
        m = re.fullmatch(r"Open (http://\S+/activate) and enter (\S+)\n", first)
        assert m, first + proc.stderr.read()
        post(server.base + "/_device?user_code=" + m[2] + "&action=approve")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert re.fullmatch(r"Bearer \d+\n", out)


def test_readme_web_sign_in_runs(server):
    app = {"config": server.native()}
    exec(compile(WEB[0], "README.md", "exec"), app)
    session = {}
    url = app["login"](session)
    assert url.startswith(server.base + "/authorize?") and "sign_in" in session
    tokens = app["callback"](session, browse(url))
    assert session == {}
    assert tokens["token_type"] == "Bearer" and "id_token" in tokens


def test_readme_loopback_login_runs(server, tmp_path):
    (tmp_path / "native_app.json").write_text(json.dumps(server.native(redirect_uri=None)))
    proc = subprocess.Popen(
        [sys.executable, "-c", LOOPBACK[0]],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Open this URL to sign in: "), first + proc.stderr.read()
        url = first.split(": ", 1)[1].strip()
        status, page = get(browse(url))
        assert status == 200 and "You are signed in" in page
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert re.fullmatch(r"Bearer \d+\n", out)


API_URL = "https://app.open-cosmos.com/api/data/v0/stac/collections"
HTTP = [b for b in re.findall(r"^```py\n(.*?)^```", (BINDING / "README.md").read_text(), flags=re.S | re.M) if API_URL in b]


def test_readme_has_an_example_per_http_client():
    assert len(HTTP) == 2
    assert "requests.Session()" in HTTP[0] and "bearer.httpx.BearerAuth" in HTTP[1]


@pytest.mark.parametrize("index", range(len(HTTP)), ids=["requests", "httpx"][: len(HTTP)])
def test_readme_http_example_runs(server, tmp_path, index):
    """The example as written, its API URL pointed at the local server."""
    pytest.importorskip("requests" if index == 0 else "httpx")
    (tmp_path / "data_cosmos_api_credentials.json").write_text(json.dumps(server.auth0()))
    script = HTTP[index].replace(API_URL, server.base + "/api/data/v0/stac/collections")
    env = {k: v for k, v in ENV.items() if not k.lower().endswith("_proxy")}  # 127.0.0.1 directly
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "'sub': 'demo-client@clients'" in out.stdout and "'path': '/api/data/v0/stac/collections'" in out.stdout
