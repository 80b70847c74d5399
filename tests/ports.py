"""Ports for the processes a test starts.

A port from `bind(0)` is free when asked, but it comes from the kernel's ephemeral range, the
same range the kernel hands to outgoing connections: between the test choosing it and the
child binding it, any connection on the machine may take it. CI once lost the compose test
that way (the second worker process's metrics port, `port + 1`, was taken). Ports below the
ephemeral range are only ever taken by an explicit bind, so a port checked free there stays
free unless another test process picks the same one at random."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_start() -> int:
    try:
        return int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(span: int = 1) -> int:
    """A port P such that P .. P + span - 1 can all be bound now, below the ephemeral range
    (`span` > 1 for a set of processes that each take the next port, as worker processes
    do with their metrics port)."""
    top = _ephemeral_start() - span
    for _ in range(1000):
        port = random.randint(10000, top)
        if all(_bindable(p) for p in range(port, port + span)):
            return port
    raise RuntimeError(f"no {span} consecutive free ports between 10000 and {top}")
