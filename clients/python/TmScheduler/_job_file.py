"""Job files: the body of ``POST /v1/jobs`` written as TOML, JSON or YAML, read into a dict.

The same files as ``tm submit-job --config``: top-level keys are the request's fields as the API
names them (``name``, ``retries``, ``retryBackoff`` …), ``[[stages]]`` its stages, and ``kind``
defaults to ``"dataflow"``::

    name = "diamond"
    retries = 1

    [[stages]]
    name = "split"
    kind = "command"
    command = "echo part-$TM_INSTANCE"
    parallelism = 3
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Dict, Optional, Union

from .errors import JobFileError, MissingDependency

__all__ = ["read_job_file", "JobFilePath"]

#: A job file's path: ``str`` or ``pathlib.Path``.
JobFilePath = Union[str, "os.PathLike[str]"]

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def read_job_file(path: JobFilePath) -> Dict[str, Any]:
    """Reads a job file into the request's dict, ``kind`` defaulting to ``"dataflow"``.

    The extension says the format: ``.toml`` (the standard library's ``tomllib`` from Python 3.11,
    else the ``tomli`` package), ``.json``, or ``.yaml``/``.yml`` (needs PyYAML). The fields are
    passed on as written; the API names any it does not know.

    Raises:
        JobFileError: the file is not valid in its format, or not a table of fields; the message
            starts with the path and, where the parser says, the line and column
            (``job.toml:4:8: TOML syntax error: Invalid value``).
        MissingDependency: a TOML file on Python < 3.11 without tomli, or YAML without PyYAML.
        OSError: the file cannot be read (``FileNotFoundError`` names it).
    """
    name = os.fspath(path)
    extension = os.path.splitext(name)[1].lower()
    parse = _PARSERS.get(extension)
    if parse is None:
        raise JobFileError(
            f"{name}: cannot tell a job file's format from {extension or 'no extension'}; "
            "name it .toml, .json, .yaml or .yml",
            path=name,
        )
    with open(name, "rb") as file:
        data = file.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise JobFileError(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})", path=name) from None
    spec = parse(name, text)
    if spec is None:
        raise JobFileError(f"{name}: the file is empty; a job file holds the job's fields (kind, name, stages …)", path=name)
    if not isinstance(spec, dict):
        raise JobFileError(
            f"{name}: a job file holds a table of the job's fields (kind, name, stages …), not a {type(spec).__name__}",
            path=name,
        )
    spec.setdefault("kind", "dataflow")
    return spec


def _at(name: str, kind: str, line: Optional[int], column: Optional[int], message: str) -> JobFileError:
    """A syntax error worded as ``tm submit-job --config`` words it: ``job.toml:4:8: TOML syntax error: …``."""
    where = name if line is None else f"{name}:{line}" + ("" if column is None else f":{column}")
    return JobFileError(f"{where}: {kind} syntax error: {message}", path=name, line=line)


def _parse_toml(name: str, text: str) -> Any:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            raise MissingDependency(
                f"reading the TOML job file {name} needs Python 3.11+ (tomllib) or the tomli package: "
                "pip install tomli, or write the job as JSON"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        at = _TOML_AT.search(message)
        if at is None:
            raise _at(name, "TOML", None, None, message) from None
        raise _at(name, "TOML", int(at.group(1)), int(at.group(2)), message[: at.start()]) from None


def _parse_json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _at(name, "JSON", error.lineno, error.colno, error.msg) from None


def _parse_yaml(name: str, text: str) -> Any:
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise MissingDependency(
            f"reading the YAML job file {name} needs PyYAML, which is not installed: pip install pyyaml, "
            "or write the job as TOML or JSON"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        message = " ".join(str(part) for part in (error.context, error.problem) if part) or str(error)
        if mark is None:
            raise _at(name, "YAML", None, None, message) from None
        raise _at(name, "YAML", mark.line + 1, mark.column + 1, message) from None
    except yaml.YAMLError as error:
        raise _at(name, "YAML", None, None, str(error)) from None


_PARSERS: Dict[str, Callable[[str, str], Any]] = {
    ".toml": _parse_toml,
    ".json": _parse_json,
    ".yaml": _parse_yaml,
    ".yml": _parse_yaml,
}
