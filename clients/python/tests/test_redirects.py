"""The bearer token follows a redirect only within its origin: two real loopback servers, one
redirecting to the other (another port, so another origin), record the Authorization they get.

Needs no stack: ``python3 -m unittest discover -s clients/python/tests -p test_redirects.py``.
"""

from __future__ import annotations

import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import TmScheduler as tm  # noqa: E402

HEALTH = b'{"ok":true,"connectedWorkers":0}'


class _Server:
    """A loopback HTTP server: ``redirects`` maps a path to a Location; other paths answer health."""

    def __init__(self) -> None:
        self.seen: List[Dict[str, Any]] = []
        self.redirects: Dict[str, str] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                owner.seen.append({"path": path, "authorization": self.headers.get("Authorization")})
                location = owner.redirects.get(path)
                if location is not None:
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(HEALTH)))
                self.end_headers()
                self.wfile.write(HEALTH)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def authorization_at(self, path: str) -> Optional[str]:
        for request in self.seen:
            if request["path"] == path:
                return request["authorization"]
        raise AssertionError(f"{path} was never requested; seen {self.seen}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RedirectTokenTest(unittest.TestCase):
    def setUp(self) -> None:
        self.control_plane = _Server()
        self.elsewhere = _Server()
        self.addCleanup(self.control_plane.close)
        self.addCleanup(self.elsewhere.close)
        self.client = tm.Client(f"http://127.0.0.1:{self.control_plane.port}", token="secret-token")

    def test_keeps_the_token_on_a_redirect_within_the_origin(self) -> None:
        self.control_plane.redirects["/v1/health"] = "/v1/moved"
        self.client.health()
        self.assertEqual(self.control_plane.authorization_at("/v1/health"), "Bearer secret-token")
        self.assertEqual(self.control_plane.authorization_at("/v1/moved"), "Bearer secret-token")

    def test_drops_the_token_on_a_redirect_to_another_port(self) -> None:
        self.control_plane.redirects["/v1/health"] = f"http://127.0.0.1:{self.elsewhere.port}/v1/stolen"
        self.client.health()
        self.assertEqual(self.control_plane.authorization_at("/v1/health"), "Bearer secret-token")
        self.assertIsNone(self.elsewhere.authorization_at("/v1/stolen"))

    def test_drops_the_token_on_a_redirect_to_another_host_name(self) -> None:
        # localhost and 127.0.0.1 reach the same socket but are different origins.
        self.control_plane.redirects["/v1/health"] = f"http://localhost:{self.control_plane.port}/v1/other-host"
        self.client.health()
        self.assertIsNone(self.control_plane.authorization_at("/v1/other-host"))

    def test_does_not_get_the_token_back_when_redirected_home(self) -> None:
        home = f"http://127.0.0.1:{self.control_plane.port}/v1/back"
        self.control_plane.redirects["/v1/health"] = f"http://127.0.0.1:{self.elsewhere.port}/v1/hop"
        self.elsewhere.redirects["/v1/hop"] = home
        self.client.health()
        self.assertIsNone(self.elsewhere.authorization_at("/v1/hop"))
        self.assertIsNone(self.control_plane.authorization_at("/v1/back"))


if __name__ == "__main__":
    unittest.main()
