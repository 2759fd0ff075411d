"""The benchmark behind bench.sh (run that: it sets up the peers' venv).

Each row sends GET /api/whoami over one kept-alive connection; the rows
take turns in rounds (the order rotating), so that a slow moment of the
shared machine is spread over all of them. Printed: the median wall time
per request, what it adds to the row's floor (the same HTTP client with a
fixed Authorization header), and the ratio.
"""

import asyncio
import pathlib
import statistics
import subprocess
import sys
import threading
import time
import warnings

import httpx
import requests

import bearer
import bearer.httpx

# Authlib 1.9 warns at import that it prefers a newer httpx (it runs on
# 0.23); its deprecate module turns its warnings on when imported, so the
# filter goes after that.
try:
    import authlib.deprecate  # noqa: F401
except ImportError:
    pass
warnings.filterwarnings("ignore", message="The httpx module is deprecated")

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROUNDS = 30
PER_ROUND = 100  # 3,000 timed requests per row
WARM_UP = 200


def start_server():
    proc = subprocess.Popen(
        [str(ROOT / "target" / "release" / "bearer"), "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"bearer serve did not start: {line!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, line[len("listening on "):].rstrip("/")


def sync_row(send):
    def run(n):
        samples = []
        for _ in range(n):
            t = time.perf_counter_ns()
            r = send()
            samples.append(time.perf_counter_ns() - t)
            if r.status_code != 200:
                raise SystemExit(f"unexpected {r.status_code}: {r.text}")
        return samples

    return run


def async_row(loop, http, url):
    async def batch(n):
        samples = []
        for _ in range(n):
            t = time.perf_counter_ns()
            r = await http.get(url)
            samples.append(time.perf_counter_ns() - t)
            if r.status_code != 200:
                raise SystemExit(f"unexpected {r.status_code}: {r.text}")
        return samples

    return lambda n: loop.run_until_complete(batch(n))


def main():
    proc, base = start_server()
    url = base + "/api/whoami"
    try:
        config = {
            "client_id": "demo-client",
            "client_secret": "demo-secret",
            "audience": "https://beeapp.open-cosmos.com",
            "token_url": base + "/oauth/token",
        }
        client = bearer.Client(config)
        response = client.token_response()
        header = client.authorization_header()
        # What a user of a peer holds after getting the token.
        token = {
            "access_token": response["access_token"],
            "token_type": "Bearer",
            "expires_in": response["expires_in"],
            "expires_at": response["expires_at"],
        }
        rows = []  # (group, name, run); the first of each group is its floor
        notes = []

        def session(**kw):
            s = requests.Session()
            s.trust_env = False
            for k, v in kw.items():
                setattr(s, k, v)
            return s

        fixed = session()
        fixed.headers["Authorization"] = header
        rows.append(("requests", "requests fixed header", sync_row(lambda: fixed.get(url))))
        with_bearer = session(auth=bearer.BearerAuth(client))
        rows.append(("requests", "requests + bearer", sync_row(lambda: with_bearer.get(url))))
        try:
            from requests_oauthlib import OAuth2Session as OAuthlibSession

            oauthlib_session = OAuthlibSession("demo-client", token=dict(token))
            oauthlib_session.trust_env = False
            rows.append(("requests", "requests-oauthlib OAuth2Session", sync_row(lambda: oauthlib_session.get(url))))
        except ImportError as exc:
            notes.append(f"requests-oauthlib not installed: {exc}")
        try:
            from authlib.integrations.requests_client import OAuth2Session as AuthlibSession

            authlib_session = AuthlibSession("demo-client", token=dict(token))
            authlib_session.trust_env = False
            rows.append(("requests", "Authlib OAuth2Session", sync_row(lambda: authlib_session.get(url))))
        except ImportError as exc:
            notes.append(f"Authlib not installed: {exc}")

        hfixed = httpx.Client(headers={"Authorization": header}, trust_env=False)
        rows.append(("httpx", "httpx fixed header", sync_row(lambda: hfixed.get(url))))
        hbearer = httpx.Client(auth=bearer.httpx.BearerAuth(client), trust_env=False)
        rows.append(("httpx", "httpx + bearer", sync_row(lambda: hbearer.get(url))))
        try:
            from authlib.integrations.httpx_client import OAuth2Client

            hauthlib = OAuth2Client("demo-client", token=dict(token), trust_env=False)
            r = hauthlib.get(url)
            if r.status_code != 200:
                raise RuntimeError(f"answered {r.status_code}")
            rows.append(("httpx", "Authlib httpx OAuth2Client", sync_row(lambda: hauthlib.get(url))))
        except Exception as exc:  # e.g. an Authlib that needs a newer httpx
            notes.append(f"Authlib's httpx OAuth2Client does not run on httpx {httpx.__version__}: {exc!r}")

        loop = asyncio.new_event_loop()
        afixed = httpx.AsyncClient(headers={"Authorization": header}, trust_env=False)
        rows.append(("httpx-async", "httpx async fixed header", async_row(loop, afixed, url)))
        abearer = httpx.AsyncClient(auth=bearer.httpx.BearerAuth(client), trust_env=False)
        rows.append(("httpx-async", "httpx async + bearer", async_row(loop, abearer, url)))
        try:
            from authlib.integrations.httpx_client import AsyncOAuth2Client

            aauthlib = AsyncOAuth2Client("demo-client", token=dict(token), trust_env=False)
            r = loop.run_until_complete(aauthlib.get(url))
            if r.status_code != 200:
                raise RuntimeError(f"answered {r.status_code}")
            rows.append(("httpx-async", "Authlib AsyncOAuth2Client", async_row(loop, aauthlib, url)))
        except Exception as exc:
            notes.append(f"Authlib's AsyncOAuth2Client does not run on httpx {httpx.__version__}: {exc!r}")

        for _, _, run in rows:
            run(WARM_UP)
        samples = {name: [] for _, name, _ in rows}
        for i in range(ROUNDS):
            k = i % len(rows)
            for _, name, run in rows[k:] + rows[:k]:
                samples[name] += run(PER_ROUND)

        width = max(30, max(len(name) for _, name, _ in rows) + 2)
        print(f"{'python integration':<{width}}us/request  added us  ratio to floor")
        floor = {}
        for group, name, _ in rows:
            us = statistics.median(samples[name]) / 1000
            floor.setdefault(group, us)
            print(f"{name:<{width}}{us:>10.1f}{us - floor[group]:>10.1f}{us / floor[group]:>16.2f}")
        for note in notes:
            print("note:", note, file=sys.stderr)
        print(
            f"({ROUNDS * PER_ROUND} requests per row in {ROUNDS} rounds after {WARM_UP} warm-up; "
            f"requests {requests.__version__}, httpx {httpx.__version__}, bearer {bearer.version()})",
            file=sys.stderr,
        )
        loop.run_until_complete(afixed.aclose())
        loop.run_until_complete(abearer.aclose())
        loop.close()
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=5)


if __name__ == "__main__":
    main()
