# SPDX-License-Identifier: Apache-2.0. Copyright 2026 the mod_md (managed) authors.
"""Free TCP ports on the loopback interface, chosen at run time."""
import socket


def free_ports(count, host="127.0.0.1"):
    """Return `count` distinct TCP ports that are free on `host` right now.

    All sockets are held open until every port is chosen, so the kernel
    hands out distinct ports; they are closed before returning.  Another
    process could still grab one before we bind it; in practice this is
    rare enough for tests (ephemeral ports are handed out sequentially).
    """
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_answers(port, host="127.0.0.1", timeout=1.0):
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
