"""Reasons not to start that the user can fix, found before anything starts: a taken port
is one sentence naming the variable that moves it, not a server's bind traceback from a
process that has already started half the stack. Light on imports: the multi-process
worker's supervisor uses it, and its memory counts against the workers' share."""

from __future__ import annotations

import socket

from infra.settings import Settings


class StartupError(RuntimeError):
    """A reason not to start that the user can fix; the CLI prints it as one line."""


def ensure_port_free(host: str, port: int, setting: str) -> None:
    """Bind-test the port (as a server binds it, reusing TIME_WAIT addresses)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise StartupError(f"port {port} on {host} is already in use ({exc.strerror}); "
                               f"stop what holds it or set {setting} to another port") from None


def ensure_ports_free(settings: Settings, *, run_api: bool, run_worker: bool, processes: int = 1) -> None:
    """Every port a command will listen on: the API's, and each worker process's metrics
    port (`Settings.metrics_endpoint`)."""
    if run_api:
        ensure_port_free(settings.api_host, settings.api_port, "HANDOFF_API_PORT")
    for index in range(processes if run_worker else 0):
        metrics = settings.metrics_endpoint(index)
        if metrics:
            ensure_port_free(*metrics, "HANDOFF_WORKER_METRICS_ADDRESS")
