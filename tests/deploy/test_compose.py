"""docker-compose.yml against what the replica tests run (Docker itself cannot run here).

The proxy service must mount the very template tests/deploy/test_replicas.py renders in front
of real replicas, with a value for each of its placeholders; the replicas, the Ray head and
workers and the runs volume must fit together (addresses, ports, the shared runs path); and the
app's port must be the one the Dockerfile's command serves. Compose's own interpolation
(``${VAR:-default}``) is applied with its defaults first, as `docker compose config` does.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from deploy.proxy import TEMPLATE, placeholders, render
from tests.support import ROOT

COMPOSE = ROOT / "docker-compose.yml"
TEMPLATES_DIR = "/etc/nginx/templates"  # where the official nginx image looks for templates
VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-|:?\?)([^}]*))?\}")
# What the README tells the teacher to set before `docker compose up` (required: ``${X:?...}``).
REQUIRED_ENV = {"NN_RAY_AUTH_TOKEN": "a-shared-secret"}


def interpolate(value: Any) -> Any:
    """Compose's interpolation with the defaults (no variable set): ``${X:-d}`` -> d, ``$$`` ->
    ``$``; a ``${X}`` without a default is an error here (compose would leave it empty)."""
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        if m.group(2) and "?" in m.group(2):  # required: compose stops with the message
            if m.group(1) not in REQUIRED_ENV:
                raise ValueError(f"${{{m.group(1)}}} is required: {m.group(3)}")
            return REQUIRED_ENV[m.group(1)]
        if m.group(2) is None:
            raise ValueError(f"${{{m.group(1)}}} has no default in docker-compose.yml")
        return m.group(3)

    return VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE.read_text()))


def dockerfile_command() -> list[str]:
    """The Dockerfile's CMD (exec form, possibly continued over lines)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    [cmd] = re.findall(r"^CMD (\[.*\])\s*$", text, flags=re.MULTILINE)
    return json.loads(cmd)


def flag(command: list[str], name: str) -> str:
    """The value of ``--name value`` or ``--name=value`` in a command line."""
    for i, arg in enumerate(command):
        if arg == name:
            return command[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    raise KeyError(f"{name} not in {command}")


def test_the_services_and_their_replicas(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"app", "proxy", "ray-head", "ray-worker"}
    assert int(services["app"]["deploy"]["replicas"]) >= 2
    assert int(services["ray-worker"]["deploy"]["replicas"]) >= 1
    # the proxy is the only way in: the replicas publish no port
    assert "ports" not in services["app"]
    assert services["proxy"]["ports"] and all(
        "ports" not in services[s] for s in ("app", "ray-head", "ray-worker"))


def test_every_python_service_shares_the_image_the_runs_volume_and_the_backend(
        compose: dict[str, Any]) -> None:
    assert "runs" in compose["volumes"]
    for name in ("app", "ray-head", "ray-worker"):
        service = compose["services"][name]
        env = service["environment"]
        assert service["build"] == "." and service["image"] == "nn-playground:latest"
        assert f"runs:{env['NN_PLAYGROUND_RUNS']}" in service["volumes"], name
        assert env["NN_PLAYGROUND_BACKEND"] == "ray"
        assert env["RAY_ADDRESS"] == "ray-head:6379"
        # Ray 2.60's `ray start` requires a token: one shared secret for the whole cluster
        assert env["RAY_AUTH_MODE"] == "token"
        assert env["RAY_AUTH_TOKEN"] == REQUIRED_ENV["NN_RAY_AUTH_TOKEN"]
    # the Dockerfile prepares the same folder, writable by the app's user
    assert "NN_PLAYGROUND_RUNS=/app/runs" in (ROOT / "Dockerfile").read_text()
    assert compose["services"]["app"]["environment"]["NN_PLAYGROUND_RUNS"] == "/app/runs"


def test_the_ray_head_and_workers_meet_at_the_address_the_replicas_join(
        compose: dict[str, Any]) -> None:
    head = compose["services"]["ray-head"]["command"]
    worker = compose["services"]["ray-worker"]["command"]
    assert head[:2] == ["ray", "start"] and "--head" in head and "--block" in head
    assert worker[:2] == ["ray", "start"] and "--block" in worker and "--head" not in worker
    address = f"ray-head:{flag(head, '--port')}"
    assert flag(worker, "--address") == address
    assert compose["services"]["app"]["environment"]["RAY_ADDRESS"] == address
    assert int(flag(worker, "--num-cpus")) >= 1
    for name in ("ray-worker", "app"):
        assert compose["services"][name]["depends_on"]["ray-head"]["condition"] == (
            "service_healthy")
    # the head's health check tries its port
    assert flag(head, "--port") in " ".join(compose["services"]["ray-head"]["healthcheck"]["test"])


def test_the_proxy_serves_the_template_the_replica_tests_run(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    mounts = [v.split(":") for v in proxy["volumes"]]
    [(source, target, mode)] = [m for m in mounts if m[1].startswith(TEMPLATES_DIR)]
    assert (ROOT / source).resolve() == TEMPLATE.resolve()
    assert target == f"{TEMPLATES_DIR}/default.conf.template"  # replaces the welcome page
    assert mode == "ro"
    env = {k: str(v) for k, v in proxy["environment"].items()}
    # the image substitutes only NN_PROXY_* (nginx's own $variables stay as they are)
    assert re.compile(env["NGINX_ENVSUBST_FILTER"]).search("NN_PROXY_LISTEN")
    needed = placeholders(TEMPLATE.read_text())
    assert needed == {k for k in env if k.startswith("NN_PROXY_")}
    assert all(re.compile(env["NGINX_ENVSUBST_FILTER"]).search(k) for k in needed)
    conf = render(TEMPLATE.read_text(), env)
    # it listens on the port compose publishes, and sends to the app service's port
    published = [p.split(":")[-1] for p in proxy["ports"]]
    assert re.search(rf"^\s*listen {env['NN_PROXY_LISTEN']} default_server;", conf, re.M)
    assert published == [env["NN_PROXY_LISTEN"]]
    app_port = flag(dockerfile_command(), "--server.port")
    assert compose["services"]["app"]["expose"] == [app_port]
    assert re.findall(r"^\s*server (\S+);", conf, re.M) == [f"app:{app_port}"]
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"


def test_the_image_serves_the_app_headless_on_every_interface() -> None:
    cmd = dockerfile_command()
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    assert flag(cmd, "--server.address") == "0.0.0.0"
    assert flag(cmd, "--server.headless") == "true"
    # the image installs the runtime requirements only
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt -c constraints.txt" in text
    assert "requirements-dev" not in text


def test_render_fills_every_placeholder_and_names_missing_ones() -> None:
    text = "listen ${A}; server ${B}; $request_id ${A}"
    assert render(text, {"A": "80", "B": "x:1"}) == "listen 80; server x:1; $request_id 80"
    with pytest.raises(ValueError, match=r"\['B'\]"):
        render(text, {"A": "80"})


def test_compose_interpolation_takes_the_defaults() -> None:
    assert interpolate({"a": ["${X:-2}", "$${Y}", 3]}) == {"a": ["2", "${Y}", 3]}
    with pytest.raises(ValueError, match="no default"):
        interpolate("${Z}")
    with pytest.raises(ValueError, match="required: set it"):
        interpolate("${Z:?set it}")
    assert interpolate("${NN_RAY_AUTH_TOKEN:?set it}") == REQUIRED_ENV["NN_RAY_AUTH_TOKEN"]

