"""Exceptions of the TM Scheduler client: the server's error code and message, or why it could not be reached."""

from __future__ import annotations

import builtins
import http.client
import ssl
from typing import Any, Optional

__all__ = [
    "TmError",
    "BadRequest",
    "PayloadTooLarge",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "RateLimited",
    "StoreUnavailable",
    "ServerError",
    "ConnectionError",
    "Timeout",
    "JobFailed",
    "MissingDependency",
    "JobFileError",
]


class TmError(Exception):
    """Base of every error this client raises.

    Attributes:
        status: the HTTP status of the reply, or None when there was no reply.
        code: the API's error code (``not_found``, ``bad_request``, ...), or a client-side code.
        message: the API's message, unchanged.
        details: the API's ``details`` (e.g. schema issues of a bad request), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: str = "error",
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message: str = message
        self.status: Optional[int] = status
        self.code: str = code
        self.details: Any = details

    def __str__(self) -> str:
        where = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.code}: {self.message}{where}"


class BadRequest(TmError):
    """400: the request did not match the API's schema, or its body was not JSON (``invalid_json``)."""


class PayloadTooLarge(BadRequest):
    """413: the request body is over the API's limit (1 MiB)."""


class Unauthorized(TmError):
    """401: missing or wrong token."""


class Forbidden(Unauthorized):
    """403: the token is valid but may not do this."""


class NotFound(TmError):
    """404: no such job, task, worker or object store."""


class Conflict(TmError):
    """409: the request conflicts with the current state (e.g. cancelling a job that already ended)."""


class RateLimited(TmError):
    """429: the queue is full; ``retry_after`` says how many seconds to wait (from ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after: Optional[float] = retry_after


class StoreUnavailable(TmError):
    """502: the control plane could not reach an object store."""


class ServerError(TmError):
    """500 or another unexpected status from the control plane."""


class ConnectionError(TmError, builtins.ConnectionError):  # noqa: A001 - the API's name for it
    """Nothing answered at the control plane's address (refused, unresolvable, timed out, cut off)."""

    def __init__(self, url: str, reason: object) -> None:
        hint = f"cannot reach the TM Scheduler control plane at {url}: {reason}. {_hint(url, reason)}"
        super().__init__(hint, code="connection_error")
        self.url: str = url
        self.reason: object = reason


def _hint(url: str, reason: object) -> str:
    """What to do about a failed connection: a TLS problem names itself, anything else may be a stopped stack."""
    if isinstance(reason, ssl.SSLCertVerificationError):
        return (
            "Its TLS certificate is not trusted here: pass ca_file= (or set TM_CA_FILE) with the CA "
            "that signed it (`tm up --tls` writes .tm/tls/ca.pem)."
        )
    if isinstance(reason, ssl.SSLError) and url.startswith("https:"):
        return "It may not speak TLS there: try its http:// address."
    if url.startswith("http:") and isinstance(reason, http.client.RemoteDisconnected):
        return "It closed the connection without answering: if it serves https (`tm up --tls`), use its https:// address."
    return "Is it running? Start the local stack with `npm start` (it serves localhost:8080)."


class Timeout(TmError, builtins.TimeoutError):
    """A wait ran out of time; ``job`` is the last view of the job waited for, if any."""

    def __init__(self, message: str, job: Any = None) -> None:
        super().__init__(message, code="timeout")
        self.job: Any = job


class JobFailed(TmError):
    """A job ended ``failed`` or ``cancelled`` where a result was expected; ``job`` is its last view."""

    def __init__(self, message: str, job: Any = None) -> None:
        super().__init__(message, code="job_failed")
        self.job: Any = job


class MissingDependency(TmError, ImportError):
    """An optional module (pyarrow, pandas) that a requested result form needs is not installed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="missing_dependency")


class JobFileError(TmError, ValueError):
    """A job file could not be read: not TOML, JSON or YAML, or not a table of the request's fields.

    Its message starts with the file's path (and the line, where the parser gives one); ``path``
    and ``line`` (None if unknown) say the same.
    """

    def __init__(self, message: str, *, path: str, line: Optional[int] = None) -> None:
        super().__init__(message, code="bad_job_file")
        self.path: str = path
        self.line: Optional[int] = line


_BY_CODE = {
    "bad_request": BadRequest,
    "invalid_json": BadRequest,
    "payload_too_large": PayloadTooLarge,
    "unauthorized": Unauthorized,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "conflict": Conflict,
    "store_unavailable": StoreUnavailable,
    "internal": ServerError,
}
_BY_STATUS = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    502: StoreUnavailable,
}


def error_for(
    status: int,
    code: Optional[str],
    message: str,
    details: Any = None,
    retry_after: Optional[float] = None,
) -> TmError:
    """The exception for an error reply: by the API's code, else by the HTTP status."""
    resolved = code or "http_error"
    if code == "rate_limited" or status == 429:
        return RateLimited(
            message, retry_after=retry_after, status=status, code=resolved, details=details
        )
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status) or (
        ServerError if status >= 500 else TmError
    )
    return cls(message, status=status, code=resolved, details=details)
