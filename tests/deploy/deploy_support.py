"""Helpers of the deployment tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from deploy.proxy import Replicas


def proxy_logs(replicas: Replicas) -> str:
    """The proxy's error log and the access log's tail, for failure messages."""
    assert replicas.proxy is not None
    errors = replicas.proxy.error_log.read_text(errors="replace")[-2000:]
    access = "\n".join(map(str, replicas.proxy.entries()[-20:]))
    return f"--- nginx error log ---\n{errors}\n--- access log (last 20) ---\n{access}"
