"""Where the time of one API list page goes (bench/api.py's keyset page 1 and page
1000): wall time of the API and the raw baseline, interleaved, then a cProfile of the
API's requests.

Usage (on a server as `make bench` starts): .venv/bin/python bench/profile_api.py
[CASES] [--reuse] [--no-profile]
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys

import common  # the path and settings

CASES = int(next((a for a in sys.argv[1:] if a.isdigit()), 100_000))
REUSE = "--reuse" in sys.argv
NAME = f"silta_profile_api_{CASES}"


def main():
    os.environ["BENCH_CASES"] = str(CASES)
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_api", os.path.join(os.path.dirname(__file__), "api.py")
    )
    bench_api = importlib.util.module_from_spec(spec)
    argv, sys.argv = sys.argv, [sys.argv[0], str(CASES)]
    spec.loader.exec_module(bench_api)
    sys.argv = argv

    bench_api.CASES = CASES
    fresh = common.kept_or_fresh_database(NAME, reuse=REUSE)
    from django.contrib.auth import get_user_model
    from django.db import connection

    connection.set_autocommit(True)
    if fresh:
        caseworker, _receiver, _team = bench_api.load(connection)
    else:
        caseworker = get_user_model().objects.get(username="worker0")
    for page in (1, CASES // 100):
        raw, _logged, api = bench_api.bench_list(connection, caseworker, page, keyset=True)
        print(
            f"keyset page {page}: raw {raw * 1000:.2f} ms, API {api * 1000:.2f} ms, "
            f"{api / raw:.2f}x"
        )
    raw, _logged, api = bench_api.bench_list(connection, caseworker, 1)
    print(f"page number 1: raw {raw * 1000:.2f} ms, API {api * 1000:.2f} ms, {api / raw:.2f}x")
    if "--no-profile" in sys.argv:
        return
    from django.test import Client

    client = Client(
        HTTP_AUTHORIZATION=f"Token {bench_api.token_for(caseworker)}", HTTP_HOST="localhost"
    )
    url = "/api/v1/cases/?page_size=50&cursor="
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(200):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(90)
    stats.sort_stats("tottime").print_stats(40)
    print(out.getvalue())


if __name__ == "__main__":
    main()
