"""The HTTP transport: urllib requests, JSON bodies, API errors raised as exceptions."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from . import __version__
from .errors import ConnectionError, ServerError, TmError, Timeout, error_for

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0"}


def normalize_base_url(target: str) -> str:
    """The API's base URL for ``host:port``, ``http(s)://host[:port][/v1]`` or a bare edge host.

    ``localhost:8080`` -> ``http://localhost:8080``; ``https://x.workers.dev/`` stays https;
    a bare host without a port (``x.workers.dev``) gets https, a loopback one http.
    """
    text = target.strip()
    if not text:
        raise ValueError("empty control plane address; expected host:port or a URL")
    if "://" not in text:
        host = urllib.parse.urlsplit(f"//{text}").hostname or ""
        has_port = urllib.parse.urlsplit(f"//{text}").port is not None
        scheme = "http" if has_port or host in _LOOPBACK or host.startswith("127.") else "https"
        text = f"{scheme}://{text}"
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"unsupported control plane address {target!r}; expected host:port or http(s)://…")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def trusting_context(ca_file: str) -> ssl.SSLContext:
    """A verifying TLS context that trusts the CA certificates in ``ca_file`` besides the system's."""
    try:
        context = ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as error:
        raise TmError(f"cannot use the CA file {ca_file}: {error}", code="bad_ca_file") from None
    context.load_default_certs()
    return context


def _error_from_reply(status: int, body: bytes, headers: Mapping[str, str], what: str) -> TmError:
    code: Optional[str] = None
    message = f"HTTP {status} from {what}"
    details: Any = None
    try:
        payload = json.loads(body.decode("utf-8"))
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            code = error.get("code") if isinstance(error.get("code"), str) else None
            message = str(error.get("message") or message)
            details = error.get("details")
    except (ValueError, UnicodeDecodeError):
        snippet = body[:200].decode("utf-8", "replace").strip()
        if snippet:
            message = f"{message}: {snippet}"
    retry_after: Optional[float] = None
    raw_retry = headers.get("Retry-After")
    if raw_retry:
        try:
            retry_after = float(raw_retry)
        except ValueError:
            retry_after = None
    return error_for(status, code, message, details, retry_after)


def _origin(url: str) -> Tuple[str, str, Optional[int]]:
    """A URL's scheme, host and port (the scheme's default when none is given)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


class _TokenKeepingRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but sends the token only to the origin (scheme, host, port) it was meant for.

    urllib copies every header onto the redirected request, ``Authorization`` included, wherever
    the ``Location`` points; browsers, curl and the TypeScript SDK (``fetch``) drop it when the
    origin changes, and so does this. A request that lost it does not get it back on a later hop.
    """

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            new.remove_header("Authorization")
        return new


class Transport:
    """Sends requests to one control plane; every failure becomes a :class:`TmError`."""

    def __init__(self, base_url: str, token: Optional[str], timeout: float, ca_file: Optional[str] = None) -> None:
        self.base_url = base_url
        self.token = token
        self.timeout = timeout
        host = urllib.parse.urlsplit(base_url).hostname or ""
        handlers: list = [_TokenKeepingRedirects()]
        if host in _LOOPBACK or host.startswith("127."):
            # A proxy from the environment must not intercept the local stack.
            handlers.append(urllib.request.ProxyHandler({}))
        if ca_file:
            handlers.append(urllib.request.HTTPSHandler(context=trusting_context(ca_file)))
        self._opener = urllib.request.build_opener(*handlers)

    def _headers(self, has_body: bool, accept: str) -> Dict[str, str]:
        headers = {"Accept": accept, "User-Agent": f"TmScheduler-python/{__version__}"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def url(self, path: str, query: Optional[Mapping[str, Any]] = None) -> str:
        """The full URL of an API path with its query (None values left out)."""
        url = self.base_url + path
        if query:
            pairs = {k: _query_value(v) for k, v in query.items() if v is not None}
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        return url

    def open(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        raw_body: Optional[bytes] = None,
        accept: str = "application/json",
        timeout: Optional[float] = -1.0,
    ) -> http.client.HTTPResponse:
        """Sends a request and returns the open reply; error statuses raise the matching TmError."""
        data = raw_body if raw_body is not None else (
            None if body is None else json.dumps(body).encode("utf-8")
        )
        url = self.url(path, query)
        request = urllib.request.Request(
            url, data=data, method=method, headers=self._headers(data is not None, accept)
        )
        what = f"{method} {path}"
        wait = self.timeout if timeout == -1.0 else timeout
        try:
            return self._opener.open(request, timeout=wait)
        except urllib.error.HTTPError as error:
            try:
                body_bytes = error.read()
            except Exception:  # the reply may be cut off; the status still says enough
                body_bytes = b""
            raise _error_from_reply(error.code, body_bytes, error.headers or {}, what) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, socket.timeout):
                raise Timeout(f"{what} got no reply from {self.base_url} within {wait} s") from None
            raise ConnectionError(self.base_url, reason) from None
        except socket.timeout:
            raise Timeout(f"{what} got no reply from {self.base_url} within {wait} s") from None
        except (OSError, http.client.HTTPException) as error:
            raise ConnectionError(self.base_url, error) from None

    def timeout_for_wait(self, wait: Optional[float]) -> Optional[float]:
        """The reply timeout of a call the server holds up to ``wait`` seconds (``?wait=``)."""
        return None if wait is None else max(self.timeout, wait + 30)

    def json(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Any = None,
        raw_body: Optional[bytes] = None,
        timeout: Optional[float] = -1.0,
    ) -> Tuple[int, Any]:
        """Sends a request and returns its status and parsed JSON reply."""
        with self.open(method, path, query=query, body=body, raw_body=raw_body, timeout=timeout) as reply:
            status = reply.status
            try:
                text = reply.read()
            except (OSError, http.client.HTTPException) as error:
                raise ConnectionError(self.base_url, error) from None
        try:
            return status, json.loads(text.decode("utf-8")) if text else None
        except (ValueError, UnicodeDecodeError):
            raise ServerError(
                f"{method} {path} answered with a body that is not JSON", status=status, code="bad_reply"
            ) from None

    def bytes(self, method: str, path: str, *, query: Optional[Mapping[str, Any]] = None, accept: str) -> bytes:
        """Sends a request and returns the raw reply body."""
        with self.open(method, path, query=query, accept=accept) as reply:
            try:
                return reply.read()
            except (OSError, http.client.HTTPException) as error:
                raise ConnectionError(self.base_url, error) from None

    def ndjson(
        self,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Iterator[Any]:
        """Yields each JSON line of a streamed NDJSON reply until the server closes it."""
        reply = self.open("GET", path, query=query, accept="application/x-ndjson", timeout=timeout)
        try:
            while True:
                try:
                    line = reply.readline()
                except socket.timeout:
                    raise Timeout(f"no output on {path} for {timeout} s") from None
                except (OSError, http.client.HTTPException):
                    return  # cut off: the caller may resume from the last sequence number
                if not line:
                    return
                line = line.strip()
                if line:
                    try:
                        yield json.loads(line.decode("utf-8"))
                    except ValueError:
                        raise ServerError(f"bad NDJSON line on {path}: {line[:200]!r}", code="bad_reply") from None
        finally:
            reply.close()


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
