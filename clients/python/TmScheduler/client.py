"""The Pythonic client: snake_case methods over the HTTP API, returning dataclasses."""

from __future__ import annotations

import logging
import os
import re
import time
import urllib.parse
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ._http import Transport, normalize_base_url
from ._dataflow import Dataflows
from ._local import local_admin_token
from ._names import camel
from ._tenancy import TenantsAndPipelines
from .errors import BadRequest, JobFailed, MissingDependency, NotFound, TmError, Timeout
from .models import JOB_END_STATES, Job, LogEnd, LogEntry, ObjectStore, Task, Worker

__all__ = ["Client", "AggregateSpec", "FilterSpec", "OrderSpec"]

logger = logging.getLogger("TmScheduler")

#: An aggregate: ``{"op", "column"?, "as"?}``, ``"count"``, ``"sum(price)"``, ``"sum(price) as revenue"``
#: or a tuple ``(op, column[, as])``.
AggregateSpec = Union[str, Mapping[str, Any], Tuple[Any, ...]]
#: A filter: ``{"column", "op", "value"?}`` or a tuple ``(column, op[, value])``.
FilterSpec = Union[Mapping[str, Any], Tuple[Any, ...]]
#: An order: ``{"column", "desc"?}``, ``"revenue"``, ``"-revenue"`` or ``"revenue desc"``.
OrderSpec = Union[str, Mapping[str, Any]]

_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".arrow": "arrow", ".ipc": "arrow", ".feather": "arrow"}
_AGG_TEXT = re.compile(r"^\s*(\w+)\s*(?:\(\s*([^)]*?)\s*\))?\s*(?:\s+as\s+(.+?))?\s*$", re.IGNORECASE)


def _format_of(key: str) -> Optional[str]:
    lower = key.lower()
    for ext, fmt in _FORMATS.items():
        if lower.endswith(ext):
            return fmt
    return None


def _aggregate_spec(spec: AggregateSpec) -> Dict[str, Any]:
    if isinstance(spec, Mapping):
        return dict(spec)
    if isinstance(spec, tuple):
        op, column, alias = (list(spec) + [None, None])[:3]
        out: Dict[str, Any] = {"op": op}
        if column not in (None, "*"):
            out["column"] = column
        if alias:
            out["as"] = alias
        return out
    match = _AGG_TEXT.match(spec)
    if not match:
        raise BadRequest(f"cannot read the aggregate {spec!r}; write e.g. 'sum(price) as revenue'", code="bad_request")
    op, column, alias = match.groups()
    out = {"op": op.lower()}
    if column and column != "*":
        out["column"] = column
    if alias:
        out["as"] = alias.strip()
    return out


def _filter_spec(spec: FilterSpec) -> Dict[str, Any]:
    if isinstance(spec, Mapping):
        return dict(spec)
    column, op, *rest = spec
    out: Dict[str, Any] = {"column": column, "op": op}
    if rest:
        value = rest[0]
        out["value"] = list(value) if isinstance(value, (set, frozenset, tuple)) else value
    return out


def _order_spec(spec: OrderSpec) -> Dict[str, Any]:
    if isinstance(spec, Mapping):
        return dict(spec)
    text = spec.strip()
    if text.startswith("-"):
        return {"column": text[1:], "desc": True}
    words = text.rsplit(None, 1)
    if len(words) == 2 and words[1].lower() in ("asc", "desc"):
        return {"column": words[0], "desc": words[1].lower() == "desc"}
    return {"column": text}


def _maybe_int(value: Any, type_name: str) -> Any:
    """JSON results carry int64 beyond 2^53 as strings; give them back as Python ints."""
    if isinstance(value, str) and "int" in type_name.lower() and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _id_of(value: Union[str, Job, Task, Worker]) -> str:
    return value if isinstance(value, str) else value.id


class Client(TenantsAndPipelines, Dataflows):
    """A client of one TM Scheduler control plane.

    Tenants (``create_tenant`` …, with the admin token) and applications' pipelines
    (``put_pipeline``, ``submit_pipeline_task`` …, with a tenant's token) come from
    :class:`~TmScheduler._tenancy.TenantsAndPipelines`; dataflow jobs (``submit_dataflow``) and
    job files (``submit_job_file``) from :class:`~TmScheduler._dataflow.Dataflows`.

    Args:
        address: ``host:port`` (``localhost:8080``), an ``http(s)://`` URL, or an edge URL such as
            ``https://tm.example.workers.dev``.
        token: sent as ``Authorization: Bearer``; defaults to the ``TM_TOKEN`` environment variable,
            then, for a loopback address only, to the local stack's ``.tm/admin-token`` found in
            the working directory or a parent.
        timeout: seconds to wait for each ordinary reply.
        ca_file: a PEM file of CA certificates to trust for ``https://`` besides the system's, such
            as ``.tm/tls/ca.pem`` of ``tm up --tls``; defaults to ``TM_CA_FILE``.

    Example:
        >>> client = Client("localhost:8080")
        >>> job = client.submit_job("echo hi", workers=1)
        >>> client.wait_job(job.id).state
        'succeeded'
    """

    def __init__(
        self,
        address: str = "localhost:8080",
        token: Optional[str] = None,
        *,
        timeout: float = 30.0,
        ca_file: Optional[str] = None,
    ) -> None:
        self.base_url: str = normalize_base_url(address)
        self.token: Optional[str] = (
            token if token is not None else (os.environ.get("TM_TOKEN") or local_admin_token(self.base_url))
        )
        self.timeout: float = timeout
        self.ca_file: Optional[str] = ca_file if ca_file is not None else (os.environ.get("TM_CA_FILE") or None)
        self._http = Transport(self.base_url, self.token, timeout, self.ca_file)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    # -- health and workers ---------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """``GET /v1/health``: ``{"ok", "protocolVersion", "connectedWorkers"}``."""
        return self._http.json("GET", "/v1/health")[1]

    def register_worker(
        self, address: str, *, labels: Optional[Mapping[str, str]] = None, slots: Optional[int] = None
    ) -> Worker:
        """Registers a worker by its ``host:port``.

        Registering an address that is already registered changes nothing: the result has
        ``created=False`` (and the fact is logged at INFO on the ``TmScheduler`` logger). A new
        registration has ``created=True`` and its ``join_token``, shown only this once.
        """
        body: Dict[str, Any] = {"address": address}
        if labels is not None:
            body["labels"] = dict(labels)
        if slots is not None:
            body["slots"] = slots
        _, reply = self._http.json("POST", "/v1/workers", body=body)
        worker = Worker.from_api(reply["worker"])
        worker.created = bool(reply.get("created"))
        worker.join_token = reply.get("joinToken")
        if not worker.created:
            logger.info("worker %s is already registered (id %s, %s); nothing changed", address, worker.id, worker.state)
        return worker

    def list_workers(self, state: Optional[str] = None) -> List[Worker]:
        """Every worker (or those in ``state``) with its health: connected, heartbeat age, running tasks."""
        _, reply = self._http.json("GET", "/v1/workers", query={"state": state})
        return [Worker.from_api(w) for w in reply["workers"]]

    def get_worker(self, worker: Union[str, Worker]) -> Worker:
        """One worker by id or by its ``host:port`` address."""
        return Worker.from_api(self._http.json("GET", f"/v1/workers/{self._worker_id(worker)}")[1])

    def deregister_worker(self, worker: Union[str, Worker], *, force: bool = False) -> Worker:
        """Deregisters a worker (by id or address): it drains (state ``draining``), or with
        ``force=True`` is removed at once (state ``gone``)."""
        path = f"/v1/workers/{self._worker_id(worker)}"
        return Worker.from_api(self._http.json("DELETE", path, query={"force": True if force else None})[1])

    def _worker_id(self, worker: Union[str, Worker]) -> str:
        if isinstance(worker, Worker):
            return worker.id
        if re.fullmatch(r"[0-9a-fA-F-]{36}", worker):
            return worker
        for candidate in self.list_workers():
            if candidate.address == worker and candidate.state != "gone":
                return candidate.id
        raise NotFound(f"worker {worker} not found", code="not_found")

    # -- jobs and tasks -------------------------------------------------------------------------

    def submit_job(
        self,
        command: Union[str, Sequence[str], Mapping[str, Any], None] = None,
        *,
        kind: Optional[str] = None,
        workers: Union[int, str, Sequence[str], None] = None,
        env: Optional[Mapping[str, str]] = None,
        path: Optional[str] = None,
        name: Optional[str] = None,
        wait: Optional[float] = None,
        **options: Any,
    ) -> Job:
        """Submits a job and returns it (queued, or ended if ``wait`` seconds were enough).

        ``command`` is a shell line or an argv list for a ``command`` job, or a whole job spec as a
        dict (``{"kind": "echo", ...}``). Further options go into the spec as given, snake_case
        turned camelCase: ``retries``, ``timeout_seconds``, ``job_timeout_seconds``,
        ``retention_seconds`` (kept this long once ended, at most the cluster's), ``lease_seconds``, ``max_lost_attempts``, ``retry_backoff={"initial_seconds": 1}``,
        ``payload``, ``count``, ...
        """
        if isinstance(command, Mapping):
            spec: Dict[str, Any] = camel(command)
        else:
            spec = {"kind": kind or "command"}
            if command is not None:
                spec["command"] = command if isinstance(command, str) else list(command)
        if kind is not None:
            spec["kind"] = kind
        for key, value in (("workers", workers), ("env", env), ("path", path), ("name", name)):
            if value is not None:
                spec[key] = dict(value) if isinstance(value, Mapping) else (
                    list(value) if isinstance(value, (list, tuple)) else value
                )
        spec.update(camel(options))
        timeout = self._http.timeout_for_wait(wait)
        _, reply = self._http.json("POST", "/v1/jobs", query={"wait": wait}, body=spec, timeout=timeout)
        return Job.from_api(reply)

    def get_job(self, job: Union[str, Job], *, tasks: Optional[int] = None) -> Job:
        """One job with its state, counts, timings and the first page of its tasks (up to
        ``tasks``, default 1000, within 4 MiB; ``tasks_next`` says where the rest are)."""
        return Job.from_api(self._http.json("GET", f"/v1/jobs/{_id_of(job)}", query={"tasks": tasks})[1])

    def list_jobs(
        self,
        state: Optional[str] = None,
        *,
        limit: Optional[int] = None,
        kind: Optional[str] = None,
        tenant: Optional[str] = None,
        since: Union[str, datetime, None] = None,
        until: Union[str, datetime, None] = None,
    ) -> List[Job]:
        """The first page of jobs, newest first (``limit``, default 100), optionally in one state, of
        one kind, one tenant's (the admin's filter) or created in [``since``, ``until``)."""
        query = _job_filters(state, kind, tenant, since, until)
        _, reply = self._http.json("GET", "/v1/jobs", query={**query, "limit": limit})
        return [Job.from_api(j) for j in reply["jobs"]]

    def iter_jobs(
        self,
        state: Optional[str] = None,
        *,
        page_size: Optional[int] = None,
        kind: Optional[str] = None,
        tenant: Optional[str] = None,
        since: Union[str, datetime, None] = None,
        until: Union[str, datetime, None] = None,
    ) -> Iterator[Job]:
        """Every job, newest first, with ``list_jobs``'s filters, read a page at a time."""
        query = _job_filters(state, kind, tenant, since, until)
        for item in self._pages("/v1/jobs", "jobs", {**query, "limit": page_size}):
            yield Job.from_api(item)

    def iter_job_tasks(
        self, job: Union[str, Job], state: Optional[str] = None, *, page_size: Optional[int] = None
    ) -> Iterator[Task]:
        """Every task of a job, by index, optionally in one state, read a page at a time."""
        path = f"/v1/jobs/{_id_of(job)}/tasks"
        for item in self._pages(path, "tasks", {"state": state, "limit": page_size}):
            yield Task.from_api(item)

    def _pages(self, path: str, rows: str, query: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        """The rows of every page of a paged list, following each page's ``next`` cursor."""
        cursor: Optional[str] = None
        while True:
            _, reply = self._http.json("GET", path, query={**query, "cursor": cursor})
            yield from reply[rows]
            cursor = reply.get("next")
            if cursor is None:
                return

    def cancel_job(self, job: Union[str, Job]) -> Job:
        """Cancels a job; raises :class:`Conflict` if it already ended."""
        return Job.from_api(self._http.json("POST", f"/v1/jobs/{_id_of(job)}/cancel")[1])

    def wait_job(self, job: Union[str, Job], timeout: Optional[float] = 60.0, *, poll: float = 0.2) -> Job:
        """Polls a job until it ends and returns its last view.

        Raises :class:`Timeout` (carrying the last view as ``.job``) if it has not ended after
        ``timeout`` seconds (``None``: wait forever). A failed job is returned, not raised.
        """
        job_id = _id_of(job)
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll
        while True:
            view = self.get_job(job_id)
            if view.state in JOB_END_STATES:
                return view
            if deadline is not None and time.monotonic() >= deadline:
                raise Timeout(f"job {job_id} is still {view.state} after {timeout} s", job=view)
            pause = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)
            interval = min(interval * 1.5, 2.0)

    def get_task(self, task: Union[str, Task]) -> Task:
        """One task, with its ``history`` of ended attempts."""
        return Task.from_api(self._http.json("GET", f"/v1/tasks/{_id_of(task)}")[1])

    def get_task_result(self, task: Union[str, Task]) -> Any:
        """A task's whole result, which views show only up to 64 KiB (``result_omitted``)."""
        return self._http.json("GET", f"/v1/tasks/{_id_of(task)}/result")[1]["result"]

    def list_tasks(self, state: Optional[str] = None, *, limit: Optional[int] = None) -> List[Task]:
        """The first page of tasks, newest first (``limit``, default 1000), optionally in one
        state (``queued``, ``running``, ...); ``iter_tasks`` reads every page."""
        _, reply = self._http.json("GET", "/v1/tasks", query={"state": state, "limit": limit})
        return [Task.from_api(t) for t in reply["tasks"]]

    def iter_tasks(self, state: Optional[str] = None, *, page_size: Optional[int] = None) -> Iterator[Task]:
        """Every task, newest first, optionally in one state, read a page at a time."""
        for item in self._pages("/v1/tasks", "tasks", {"state": state, "limit": page_size}):
            yield Task.from_api(item)

    def list_running_tasks(self) -> List[Task]:
        """Every task running right now, each with the worker that runs it."""
        return list(self.iter_tasks("running"))

    # -- logs -----------------------------------------------------------------------------------

    def logs(self, job: Union[str, Job, None] = None, *, task: Union[str, Task, None] = None, after: int = 0) -> List[LogEntry]:
        """The stored output of a job (every task) or of one task, as it is now."""
        path = self._logs_path(job, task)
        entries: List[LogEntry] = []
        while True:
            _, page = self._http.json("GET", path, query={"after": after, "limit": 10_000})
            entries.extend(LogEntry.from_api(e) for e in page["entries"])
            if page.get("next") is None or not page["entries"]:
                return entries
            after = page["next"]

    def stream_logs(
        self,
        job: Union[str, Job, None] = None,
        *,
        task: Union[str, Task, None] = None,
        after: int = 0,
        include_end: bool = False,
        timeout: Optional[float] = None,
    ) -> Iterator[Union[LogEntry, LogEnd]]:
        """Follows a job's (or a task's) output until it ends: a generator of :class:`LogEntry`.

        It yields the stored backlog, then new output as it arrives (``?follow=true`` NDJSON), and
        stops when the job or task ends; with ``include_end=True`` the last item is a
        :class:`LogEnd` with the final state. A dropped connection is resumed from the last
        sequence number. ``timeout``: raise :class:`Timeout` after that many seconds without output.
        """
        path = self._logs_path(job, task)
        cursor = after
        stalls = 0
        while True:
            progressed = False
            for line in self._http.ndjson(path, query={"follow": True, "after": cursor}, timeout=timeout):
                if isinstance(line, dict) and line.get("end") is True:
                    if include_end:
                        yield LogEnd(state=str(line.get("state")))
                    return
                entry = LogEntry.from_api(line)
                cursor = max(cursor, entry.seq)
                progressed = True
                yield entry
            # The stream closed without its end line (a restart, a proxy): resume where it stopped.
            stalls = 0 if progressed else stalls + 1
            if stalls >= 3:
                raise TmError(f"the log stream {path} keeps closing without an end", code="stream_closed")
            time.sleep(0.2 * stalls)

    @staticmethod
    def _logs_path(job: Union[str, Job, None], task: Union[str, Task, None]) -> str:
        if (job is None) == (task is None):
            raise ValueError("give a job or a task (task=...), not both")
        if task is not None:
            return f"/v1/tasks/{_id_of(task)}/logs"
        assert job is not None
        return f"/v1/jobs/{_id_of(job)}/logs"

    # -- object stores ----------------------------------------------------------------------------

    def register_object_store(
        self,
        url: str,
        *,
        name: Optional[str] = None,
        endpoint: Optional[str] = None,
        region: Optional[str] = None,
        access_key_id: Optional[str] = None,
        secret_access_key: Optional[str] = None,
        session_token: Optional[str] = None,
        force_path_style: Optional[bool] = None,
    ) -> ObjectStore:
        """Registers an S3-compatible store (``s3://bucket[/prefix]``); its name defaults to the bucket.

        With only a URL, a store already registered under that name for the same URL is returned
        as it is (``created=False``), whatever endpoint and credentials it was registered with, so
        ``register_object_store("s3://test-bucket")`` works against the local stack, which
        registered its loopback S3 already. Registering the same settings again is idempotent
        (``created=False``); other settings under a taken name raise :class:`Conflict`.
        """
        settings = {
            "endpoint": endpoint,
            "region": region,
            "accessKeyId": access_key_id,
            "secretAccessKey": secret_access_key,
            "sessionToken": session_token,
            "forcePathStyle": force_path_style,
        }
        given = {k: v for k, v in settings.items() if v is not None}
        store_name = name or (url[len("s3://"):].split("/", 1)[0] if url.startswith("s3://") else None)
        if not given and store_name:
            try:
                existing = self.get_object_store(store_name)
            except NotFound:
                existing = None
            if existing is not None and existing.url == url:
                existing.created = False
                logger.info("object store %s (%s) is already registered; nothing changed", existing.name, url)
                return existing
        body: Dict[str, Any] = {"url": url, **given}
        if name is not None:
            body["name"] = name
        _, reply = self._http.json("POST", "/v1/object-stores", body=body)
        store = ObjectStore.from_api(reply["store"])
        store.created = bool(reply.get("created"))
        if not store.created:
            logger.info("object store %s (%s) is already registered; nothing changed", store.name, url)
        return store

    def list_object_stores(self) -> List[ObjectStore]:
        """Every registered object store (never its credentials)."""
        _, reply = self._http.json("GET", "/v1/object-stores")
        return [ObjectStore.from_api(s) for s in reply["objectStores"]]

    def get_object_store(self, store: str) -> ObjectStore:
        """One object store by name or id."""
        return ObjectStore.from_api(self._http.json("GET", f"/v1/object-stores/{urllib.parse.quote(store, safe='')}")[1])

    def delete_object_store(self, store: str) -> ObjectStore:
        """Deletes a store registration (not its objects); :class:`Conflict` while jobs use it."""
        return ObjectStore.from_api(self._http.json("DELETE", f"/v1/object-stores/{urllib.parse.quote(store, safe='')}")[1])

    def list_objects(self, store: str, prefix: str = "", *, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """The objects under ``prefix`` in a store: ``{"key", "size", "lastModified"}`` each."""
        path = f"/v1/object-stores/{urllib.parse.quote(store, safe='')}/objects"
        objects: List[Dict[str, Any]] = []
        cursor: Optional[str] = None
        while True:
            _, page = self._http.json("GET", path, query={"prefix": prefix, "cursor": cursor, "limit": limit})
            objects.extend(page["objects"])
            cursor = page.get("next")
            if not cursor or (limit is not None and len(objects) >= limit):
                return objects[:limit] if limit is not None else objects

    # -- aggregation ------------------------------------------------------------------------------

    def aggregate(
        self,
        source: str,
        *,
        aggregates: Sequence[AggregateSpec] = ("count",),
        group_by: Union[str, Sequence[str], None] = None,
        filter: Optional[Sequence[FilterSpec]] = None,  # noqa: A002 - the API's name
        order_by: Union[OrderSpec, Sequence[OrderSpec], None] = None,
        limit: Optional[int] = None,
        format: Optional[str] = None,  # noqa: A002 - the API's name
        prefix: Optional[str] = None,
        paths: Optional[Sequence[str]] = None,
        partitions: Optional[int] = None,
        output: Optional[Mapping[str, str]] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = 300.0,
        as_: str = "rows",
        **options: Any,
    ) -> Any:
        """Runs a distributed group-by, waits for it, and returns its result.

        Args:
            source: ``s3://bucket/prefix/`` (or ``s3://bucket/key.csv``) in a registered store, or a
                store name with ``prefix=``/``paths=``.
            aggregates: e.g. ``["count", "sum(price) as revenue", ("avg", "price")]`` or API dicts.
            group_by: column name(s).
            filter: e.g. ``[("quantity", ">=", 5), ("region", "in", ["eu", "us"])]`` or API dicts.
            order_by: ``"revenue"``, ``"-revenue"`` / ``"revenue desc"``, or a list of them.
            format: ``parquet``, ``csv`` or ``arrow``; guessed from the key's extension when omitted.
            timeout: seconds to wait for the job (:class:`Timeout` after).
            as_: ``"rows"`` (a list of dicts, the default), ``"arrow"`` (a ``pyarrow.Table``) or
                ``"pandas"`` (a ``pandas.DataFrame``); the last two need those modules installed.

        Raises:
            JobFailed: the job failed (its error names the file and column) or was cancelled.
        """
        _check_result_form(as_)
        store, prefix, paths = self._resolve_source(source, prefix, paths)
        if format is None:
            format = self._guess_format(store, prefix, paths)
        src: Dict[str, Any] = {"store": store, "format": format}
        if paths is not None:
            src["paths"] = list(paths)
        elif prefix:
            src["prefix"] = prefix
        spec: Dict[str, Any] = {"kind": "aggregate", "source": src, "aggregates": [_aggregate_spec(a) for a in aggregates]}
        if group_by is not None:
            spec["groupBy"] = [group_by] if isinstance(group_by, str) else list(group_by)
        if filter:
            spec["filter"] = [_filter_spec(f) for f in filter]
        if order_by is not None:
            orders = [order_by] if isinstance(order_by, (str, Mapping)) else list(order_by)
            spec["orderBy"] = [_order_spec(o) for o in orders]
        for key, value in (("limit", limit), ("partitions", partitions), ("name", name)):
            if value is not None:
                spec[key] = value
        if output is not None:
            spec["output"] = dict(output)
        spec.update(camel(options))
        return self._run_aggregation(spec, timeout, as_)

    def _run_aggregation(self, spec: Dict[str, Any], timeout: Optional[float], as_: str) -> Any:
        job = self.submit_job(spec)
        done = self.wait_job(job.id, timeout)
        if done.state != "succeeded":
            raise JobFailed(f"aggregation job {done.id} {done.state}: {done.error or 'no error given'}", job=done)
        return self.result(done.id, as_=as_)

    def query(
        self,
        sql: str,
        *,
        partitions: Optional[int] = None,
        output: Optional[Mapping[str, str]] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = 300.0,
        as_: str = "rows",
        **options: Any,
    ) -> Any:
        """Runs SQL as a distributed aggregation, waits for it, and returns its result.

        One ``SELECT`` of group keys and ``count``/``sum``/``min``/``max``/``avg`` ``FROM`` one
        ``'s3://bucket/folder/'`` (or ``read_parquet('…')``, ``read_csv('…')``, ``'…/*.csv'``, one
        object's key) in a registered store, with ``WHERE`` (``AND`` of comparisons, ``IN``,
        ``BETWEEN``, ``IS [NOT] NULL``), ``GROUP BY``, ``ORDER BY`` and ``LIMIT``; see
        docs/aggregation.md ("SQL"). For example::

            client.query("SELECT region, count(*), avg(price) FROM 's3://test-bucket/sales/' "
                         "WHERE quantity > 5 GROUP BY region ORDER BY 2 DESC LIMIT 10")

        Args:
            sql: the query; the server maps it onto an aggregate job.
            partitions, output, name: the job's own fields, as for :meth:`aggregate`.
            timeout: seconds to wait for the job (:class:`Timeout` after).
            as_: ``"rows"`` (a list of dicts, the default), ``"arrow"`` or ``"pandas"``.

        Raises:
            BadRequest: SQL that does not parse or asks for what the job cannot do; the message
                names the clause (and its line and column).
            JobFailed: the job failed (its error names the file and column) or was cancelled.
        """
        _check_result_form(as_)
        spec: Dict[str, Any] = {"kind": "aggregate", "sql": sql}
        for key, value in (("partitions", partitions), ("name", name)):
            if value is not None:
                spec[key] = value
        if output is not None:
            spec["output"] = dict(output)
        spec.update(camel(options))
        return self._run_aggregation(spec, timeout, as_)

    def result(self, job: Union[str, Job], *, as_: str = "rows") -> Any:
        """The result of a finished aggregation: rows (list of dicts), ``"arrow"`` or ``"pandas"``."""
        _check_result_form(as_)
        job_id = _id_of(job)
        if as_ == "arrow" or (as_ == "pandas" and _importable("pyarrow")):
            import pyarrow.ipc  # type: ignore[import-not-found]

            data = self._http.bytes("GET", f"/v1/jobs/{job_id}/result", query={"format": "arrow"}, accept="application/vnd.apache.arrow.stream")
            table = pyarrow.ipc.open_stream(data).read_all()
            return table if as_ == "arrow" else table.to_pandas()
        rows, columns = self._result_rows(job_id)
        if as_ == "pandas":
            import pandas  # type: ignore[import-not-found]

            return pandas.DataFrame(rows, columns=[c["name"] for c in columns])
        return rows

    def _result_rows(self, job_id: str) -> Tuple[List[Dict[str, Any]], List[Dict[str, str]]]:
        rows: List[Dict[str, Any]] = []
        offset: Optional[int] = 0
        columns: List[Dict[str, str]] = []
        while offset is not None:
            _, page = self._http.json("GET", f"/v1/jobs/{job_id}/result", query={"format": "json", "offset": offset, "limit": 100_000})
            columns = page["columns"]
            types = {c["name"]: c.get("type", "") for c in columns}
            rows.extend({k: _maybe_int(v, types.get(k, "")) for k, v in row.items()} for row in page["rows"])
            offset = page.get("next")
        return rows, columns

    def _resolve_source(
        self, source: str, prefix: Optional[str], paths: Optional[Sequence[str]]
    ) -> Tuple[str, Optional[str], Optional[Sequence[str]]]:
        if not source.startswith("s3://"):
            return source, prefix, paths
        if prefix is not None:
            raise ValueError("give the prefix in the s3:// URL or as prefix=, not both")
        bucket, _, key = source[len("s3://"):].partition("/")
        candidates = [s for s in self.list_object_stores() if s.bucket == bucket and key.startswith(s.prefix)]
        if not candidates:
            raise NotFound(
                f"no object store is registered for s3://{bucket}/{key}; register it first "
                "(RegisterObjectStore / register_object_store)",
                code="not_found",
            )
        store = max(candidates, key=lambda s: len(s.prefix))
        rest = key[len(store.prefix):]
        if paths is None and rest and not rest.endswith("/") and _format_of(rest):
            return store.name, None, [rest]
        return store.name, rest or None, paths

    def _guess_format(self, store: str, prefix: Optional[str], paths: Optional[Sequence[str]]) -> str:
        for key in list(paths or []) + ([prefix] if prefix else []):
            fmt = _format_of(key)
            if fmt:
                return fmt
        for obj in self.list_objects(store, prefix or "", limit=100):
            fmt = _format_of(obj["key"])
            if fmt:
                return fmt
        raise BadRequest(
            f"cannot tell the format of the objects under {prefix or '(the store root)'} in {store}; "
            "pass format='parquet', 'csv' or 'arrow'",
            code="bad_request",
        )


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _check_result_form(as_: str) -> None:
    if as_ not in ("rows", "arrow", "pandas"):
        raise ValueError(f"as_ must be 'rows', 'arrow' or 'pandas', not {as_!r}")
    if as_ == "arrow" and not _importable("pyarrow"):
        raise MissingDependency("as_='arrow' needs pyarrow, which is not installed: pip install pyarrow (or use as_='rows')")
    if as_ == "pandas" and not _importable("pandas"):
        raise MissingDependency("as_='pandas' needs pandas, which is not installed: pip install pandas (or use as_='rows')")


def _job_filters(
    state: Optional[str],
    kind: Optional[str],
    tenant: Optional[str],
    since: Union[str, datetime, None],
    until: Union[str, datetime, None],
) -> Dict[str, Any]:
    """GET /v1/jobs's filters; a datetime is sent as ISO 8601 (a naive one is taken as UTC)."""

    def iso(value: Union[str, datetime, None]) -> Optional[str]:
        if not isinstance(value, datetime):
            return value
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()

    return {"state": state, "kind": kind, "tenant": tenant, "since": iso(since), "until": iso(until)}
