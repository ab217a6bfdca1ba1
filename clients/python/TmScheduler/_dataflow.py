"""The client's calls for dataflow jobs (a DAG of named stages) and for jobs written in a file."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional, Sequence

from ._http import Transport
from ._job_file import JobFilePath, read_job_file
from ._names import camel
from .errors import BadRequest
from .models import Job

__all__ = ["Dataflows", "StageSpec", "stage_spec"]

#: A stage: ``{"name", "kind", "command"?, "path"?, "env"?, "timeout_seconds"?, "payload"?,
#: "parallelism"?, "depends_on"?, "stream_from"?, "continue_on_failure"?}``, a pipeline stage's
#: ``application``, ``pipeline`` and ``data``, or an aggregate stage's aggregate job fields
#: (``source``, ``group_by``, ``aggregates`` …), snake_case or the API's camelCase.
StageSpec = Mapping[str, Any]

_STAGE_CAMEL = {
    "depends_on": "dependsOn",
    "continue_on_failure": "continueOnFailure",
    "timeout_seconds": "timeoutSeconds",
    "stream_from": "streamFrom",
    "group_by": "groupBy",
    "order_by": "orderBy",
    "inline_intermediates": "inlineIntermediates",
}


def stage_spec(stage: StageSpec) -> Dict[str, Any]:
    """One stage as the API takes it: its snake_case fields camelCased (``env`` and ``payload``
    as given), ``depends_on="a"`` as ``["a"]``, and ``kind`` ``"command"`` when only a command is given."""
    if not isinstance(stage, Mapping):
        raise TypeError(f"a stage is a dict of its fields (name, kind, command …), not a {type(stage).__name__}")
    out: Dict[str, Any] = {}
    for key, value in stage.items():
        field = _STAGE_CAMEL.get(key, key)
        if field in out:
            raise ValueError(f"stage {stage.get('name')!r} gives {field} twice: as {field} and as {key}")
        out[field] = value
    depends_on = out.get("dependsOn")
    if isinstance(depends_on, str):
        out["dependsOn"] = [depends_on]
    elif depends_on is not None:
        out["dependsOn"] = list(depends_on)
    if isinstance(out.get("command"), tuple):
        out["command"] = list(out["command"])
    if isinstance(out.get("env"), Mapping):
        out["env"] = dict(out["env"])
    if "kind" not in out and "command" in out:
        out["kind"] = "command"
    return out


class Dataflows:
    """Mixed into :class:`Client`: dataflow jobs and job files."""

    _http: Transport

    def submit_dataflow(
        self,
        stages: Sequence[StageSpec],
        *,
        name: Optional[str] = None,
        wait: Optional[float] = None,
        **policy: Any,
    ) -> Job:
        """Submits a dataflow job, a DAG of named stages, and returns it (queued, or ended if
        ``wait`` seconds, at most 300, were enough).

        Each stage is a dict (:data:`StageSpec`): ``name`` (a word), ``kind`` (``command``, the
        default when a ``command`` is given, ``pipeline``, ``aggregate`` or ``echo``), ``command``
        (a shell line or an argv list), ``path``, ``env``, ``timeout_seconds``, ``outputs`` (file
        names written into ``$TM_OUTPUTS``), ``payload`` (echo), ``parallelism`` (instances,
        default 1), ``depends_on`` (stage names) and ``continue_on_failure``; a pipeline stage's
        ``application``, ``pipeline`` and ``data``; an aggregate stage's aggregate job fields. A
        stage starts once its upstreams have ended; each instance's result is the end of its
        stdout, and reaches downstream stages as ``$TM_INPUT_<stage>`` and files under
        ``$TM_INPUTS/<stage>/``, with upstream outputs and aggregate results (``result.arrow``).

        ``policy`` is the job's, as for :meth:`Client.submit_job`: ``retries``,
        ``retry_backoff={"initial_seconds": 1}``, ``timeout_seconds``, ``job_timeout_seconds``,
        ``retention_seconds``, ``lease_seconds``, ``max_lost_attempts``, and
        ``outputs={"store": …, "prefix": …}`` (where stages' output files are uploaded).

        Raises:
            BadRequest: the API refused the job; its message names the problem (a cycle, an
                unknown or duplicate stage, a bad field).

        Example:
            >>> client.submit_dataflow([
            ...     {"name": "split", "command": "echo part-$TM_INSTANCE", "parallelism": 2},
            ...     {"name": "join", "command": 'echo "$TM_INPUT_split"', "depends_on": ["split"]},
            ... ], name="two-step", wait=60).stage("join").state
            'succeeded'
        """
        if isinstance(stages, (str, bytes, os.PathLike, Mapping)):
            raise TypeError("stages is a list of stage dicts; for a job file use submit_job_file(path)")
        spec: Dict[str, Any] = {"kind": "dataflow", "stages": [stage_spec(s) for s in stages]}
        if name is not None:
            spec["name"] = name
        spec.update(camel(policy))
        return self._post_job(spec, wait)

    def submit_job_file(self, path: JobFilePath, *, wait: Optional[float] = None, **overrides: Any) -> Job:
        """Submits the job written in a TOML, JSON or YAML file (``tm submit-job --config``'s
        format: the request's fields, ``[[stages]]``, ``kind`` defaulting to ``"dataflow"``).

        ``overrides`` replace the file's top-level fields, snake_case camelCased (``name="nightly"``,
        ``retries=2``); ``wait`` as for :meth:`submit_dataflow`.

        Raises:
            JobFileError: the file is not valid TOML/JSON/YAML or not a table (path and line named).
            MissingDependency: YAML without PyYAML, or TOML on Python < 3.11 without tomli.
            BadRequest: the API refused the job; the message starts with the file's path.
        """
        spec = read_job_file(path)
        spec.update(camel(overrides))
        try:
            return self._post_job(spec, wait)
        except BadRequest as error:
            raise type(error)(
                f"{os.fspath(path)}: {error.message}", status=error.status, code=error.code, details=error.details
            ) from None

    def _post_job(self, spec: Dict[str, Any], wait: Optional[float]) -> Job:
        timeout = self._http.timeout_for_wait(wait)
        _, reply = self._http.json("POST", "/v1/jobs", query={"wait": wait}, body=spec, timeout=timeout)
        return Job.from_api(reply)
