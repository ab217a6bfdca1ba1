"""The local stack's admin token: ``npm start`` keeps it in ``.tm/admin-token`` of the repository.

A client of a loopback control plane that was given no token looks for that file in the working
directory and its parents, so code written for ``localhost:8080`` works as written. The token is
never sent anywhere but to a loopback address.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Optional

from ._http import _LOOPBACK

TOKEN_FILE = Path(".tm") / "admin-token"


def is_loopback(base_url: str) -> bool:
    host = urllib.parse.urlsplit(base_url).hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


def local_admin_token(base_url: str, start: Optional[Path] = None) -> Optional[str]:
    """The token in the nearest ``.tm/admin-token`` above ``start`` (the working directory)."""
    if not is_loopback(base_url):
        return None
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / TOKEN_FILE
        try:
            token = candidate.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if token:
            return token
    return None
