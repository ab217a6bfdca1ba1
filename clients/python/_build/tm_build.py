"""PEP 517 backend: setuptools, with a standard-library fallback for building the wheel.

setuptools before 70.1 needs the separate ``wheel`` package to build wheels. Offline, with
``--no-build-isolation`` and an older setuptools without ``wheel``, this builds the (pure Python)
wheel itself, so ``pip install --no-build-isolation --no-index ./clients/python`` still works.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from setuptools import build_meta as _setuptools

ROOT = Path(__file__).resolve().parent.parent
NAME, VERSION, PACKAGE = "TmScheduler", "0.1.0", "TmScheduler"


def _setuptools_builds_wheels() -> bool:
    try:
        import wheel  # noqa: F401

        return True
    except ImportError:
        import setuptools

        major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
        return (major, minor) >= (70, 1)


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return _setuptools.get_requires_for_build_sdist(config_settings)


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    return _setuptools.build_sdist(sdist_directory, config_settings)


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    if _setuptools_builds_wheels():
        return _setuptools.get_requires_for_build_wheel(config_settings)
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    if _setuptools_builds_wheels():
        return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)
    return _plain_wheel(wheel_directory)


def _metadata() -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {NAME}\nVersion: {VERSION}\n"
        "Summary: Python client of the TM Scheduler HTTP API (standard library only)\n"
        "Requires-Python: >=3.9\n"
        "Provides-Extra: arrow\nRequires-Dist: pyarrow; extra == \"arrow\"\n"
        "Provides-Extra: pandas\nRequires-Dist: pandas; extra == \"pandas\"\n"
    )


def _plain_wheel(wheel_directory: str) -> str:
    dist_info = f"{NAME}-{VERSION}.dist-info"
    filename = f"{NAME}-{VERSION}-py3-none-any.whl"
    files: Dict[str, bytes] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    files[f"{dist_info}/METADATA"] = _metadata().encode()
    files[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: tm_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()
    files[f"{dist_info}/top_level.txt"] = f"{PACKAGE}\n".encode()
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    os.makedirs(wheel_directory, exist_ok=True)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return filename
