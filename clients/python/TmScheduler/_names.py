"""The API's camelCase names for the client's snake_case options (``timeout_seconds`` -> ``timeoutSeconds``)."""

from __future__ import annotations

from typing import Any, Dict, Mapping

CAMEL = {
    "timeout_seconds": "timeoutSeconds",
    "job_timeout_seconds": "jobTimeoutSeconds",
    "retention_seconds": "retentionSeconds",
    "lease_seconds": "leaseSeconds",
    "max_lost_attempts": "maxLostAttempts",
    "retry_backoff": "retryBackoff",
    "initial_seconds": "initialSeconds",
    "max_seconds": "maxSeconds",
}


def camel(options: Mapping[str, Any]) -> Dict[str, Any]:
    """``options`` with the known snake_case names camelCased, nested dicts too; others as given."""
    out: Dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, Mapping):
            value = camel(value)
        out[CAMEL.get(key, key)] = value
    return out
