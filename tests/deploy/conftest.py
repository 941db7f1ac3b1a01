"""Fixtures of the deployment tests: app replicas behind a real nginx (deploy/proxy.py).

``start_replicas(n, env=...)`` starts ``n`` real ``streamlit run app.py`` servers sharing one
runs folder, and Debian's nginx in front of them configured from
deploy/nginx/default.conf.template, the file docker-compose.yml's proxy mounts; everything is
stopped at the end of the test module. ``two_replicas`` is the pair a module's tests share. Other
tests can start their own set with environment variables for the replicas, e.g.
``start_replicas(2, env={"NN_PLAYGROUND_BACKEND": "ray", "RAY_ADDRESS": address})``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import pytest

from deploy.proxy import NGINX, NGINX_HINT, Replicas


@pytest.fixture(scope="module")
def start_replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        Callable[..., Replicas]]:
    """Start ``n`` replicas behind the proxy (``env``: more environment for each replica);
    a missing nginx fails the test with how to install it (never a skip)."""
    started: list[Replicas] = []

    def start(n: int, env: Mapping[str, str] | None = None, name: str = "") -> Replicas:
        if not NGINX.is_file():
            pytest.fail(NGINX_HINT, pytrace=False)
        tag = name or f"replicas{len(started)}"
        work = tmp_path_factory.mktemp(tag)
        replicas = Replicas(n, work, work / "runs", env=env)
        started.append(replicas)
        try:
            replicas.start()
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n(logs in {work})", pytrace=False)
        return replicas

    yield start
    for replicas in started:
        replicas.stop()


@pytest.fixture(scope="module")
def two_replicas(start_replicas: Callable[..., Replicas]) -> Replicas:
    """Two app replicas (local training backend) behind one nginx."""
    return start_replicas(2, name="two")

