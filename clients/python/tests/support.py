"""Shared test setup: the client from this folder, and the stack the tests run against.

The stack's address comes from ``TM_TEST_URL`` (``npm test`` starts one and sets it, see
test/e2e/python.test.ts); the aggregation data from ``TM_TEST_STORE``, ``TM_TEST_PREFIX`` and
``TM_TEST_CSV_DIR`` (local copies of the uploaded CSV files, read here as the oracle).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent  # clients/python: the client is used straight from the folder
REPO_ROOT = PACKAGE_ROOT.parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(
            f"{name} is not set: these tests need a running stack. Run them through "
            "`npx vitest run --project e2e test/e2e/python.test.ts`, or set TM_TEST_URL, "
            "TM_TEST_STORE, TM_TEST_PREFIX, TM_TEST_CSV_DIR and TM_TEST_AGENTS yourself."
        )
    return value


URL = _required("TM_TEST_URL")
STORE = os.environ.get("TM_TEST_STORE", "test-bucket")
PREFIX = _required("TM_TEST_PREFIX")
CSV_DIR = Path(_required("TM_TEST_CSV_DIR"))
AGENTS = int(os.environ.get("TM_TEST_AGENTS", "2"))
S3_ENDPOINT = os.environ.get("TM_TEST_S3_ENDPOINT")


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Forwarder:
    """A TCP forwarder from ``127.0.0.1:port`` to the stack, so code written for ``localhost:8080``
    can run unchanged against a stack on another port. ``start()`` returns False if the port is taken."""

    def __init__(self, port: int, target_url: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(target_url)
        self.port = port
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._server: "socket.socket | None" = None
        self._stopped = False

    def start(self) -> bool:
        import threading

        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            server.bind(("127.0.0.1", self.port))
        except OSError:
            server.close()
            return False
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, daemon=True).start()
        return True

    def _accept(self) -> None:
        import threading

        assert self._server is not None
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def stop(self) -> None:
        self._stopped = True
        if self._server is not None:
            self._server.close()
