"""Seed-style functions (``tm.NewSession``, ``tm.RegisterWorker``, ...) over one default :class:`Client`."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from ._dataflow import StageSpec
from ._job_file import JobFilePath
from .client import AggregateSpec, Client, FilterSpec, OrderSpec
from .errors import TmError
from .models import Job, LogEnd, LogEntry, ObjectStore, Task, Worker

__all__ = [
    "NewSession",
    "CurrentSession",
    "RegisterWorker",
    "DeregisterWorker",
    "ListWorkers",
    "RegisterObjectStore",
    "SubmitJob",
    "SubmitDataflow",
    "SubmitJobFile",
    "GetJob",
    "WaitJob",
    "CancelJob",
    "GetTask",
    "GetTaskResult",
    "JobTasks",
    "ListRunningTasks",
    "StreamLogs",
    "Aggregate",
]

_session: Optional[Client] = None


def NewSession(  # noqa: N802
    address: str = "localhost:8080",
    token: Optional[str] = None,
    *,
    timeout: float = 30.0,
    check: bool = True,
    ca_file: Optional[str] = None,
) -> Client:
    """Opens the default session that the other functions use, and returns its :class:`Client`.

    ``address`` is ``host:port``, an ``http(s)://`` URL, or an edge URL (``https://x.workers.dev``);
    ``token`` defaults to ``TM_TOKEN``; ``ca_file`` (default ``TM_CA_FILE``) is a PEM CA to trust
    for https, such as ``.tm/tls/ca.pem`` of ``tm up --tls``. With ``check`` (the default) it asks
    ``/v1/health`` first, so a wrong address fails here with :class:`ConnectionError`.
    """
    global _session
    client = Client(address, token, timeout=timeout, ca_file=ca_file)
    if check:
        client.health()
    _session = client
    return client


def CurrentSession() -> Client:  # noqa: N802
    """The default session's client; :class:`TmError` if ``NewSession`` was not called."""
    if _session is None:
        raise TmError('no session: call tm.NewSession("host:port") first', code="no_session")
    return _session


def RegisterWorker(address: str, *, labels: Optional[Mapping[str, str]] = None, slots: Optional[int] = None) -> Worker:  # noqa: N802
    """Registers a worker by ``host:port``; again for the same address returns it with ``created=False``."""
    return CurrentSession().register_worker(address, labels=labels, slots=slots)


def DeregisterWorker(worker: Union[str, Worker], *, force: bool = False) -> Worker:  # noqa: N802
    """Deregisters a worker by id or address: drains it, or removes it at once with ``force=True``."""
    return CurrentSession().deregister_worker(worker, force=force)


def ListWorkers(state: Optional[str] = None) -> List[Worker]:  # noqa: N802
    """Every worker with its health (``connected``, ``last_heartbeat_age_ms``, ``running_tasks``, ...)."""
    return CurrentSession().list_workers(state)


def RegisterObjectStore(url: str, **settings: Any) -> ObjectStore:  # noqa: N802
    """Registers ``s3://bucket[/prefix]``; settings as in :meth:`Client.register_object_store`
    (``name``, ``endpoint``, ``region``, ``access_key_id``, ``secret_access_key``, ...)."""
    return CurrentSession().register_object_store(url, **settings)


def SubmitJob(command: Union[str, Sequence[str], Mapping[str, Any], None] = None, **options: Any) -> Job:  # noqa: N802
    """Submits a command (shell line or argv list) or a whole job spec dict; see :meth:`Client.submit_job`."""
    return CurrentSession().submit_job(command, **options)


def SubmitDataflow(  # noqa: N802
    stages: Sequence[StageSpec], *, name: Optional[str] = None, wait: Optional[float] = None, **policy: Any
) -> Job:
    """Submits a dataflow job: a list of stage dicts (``name``, ``command``, ``depends_on``,
    ``parallelism`` …) and the job's policy (``retries``, ``timeout_seconds`` …); see
    :meth:`Client.submit_dataflow`."""
    return CurrentSession().submit_dataflow(stages, name=name, wait=wait, **policy)


def SubmitJobFile(path: JobFilePath, *, wait: Optional[float] = None, **overrides: Any) -> Job:  # noqa: N802
    """Submits the job written in a TOML, JSON or YAML file (``[[stages]]`` …); see :meth:`Client.submit_job_file`."""
    return CurrentSession().submit_job_file(path, wait=wait, **overrides)


def GetJob(job: Union[str, Job], *, tasks: Optional[int] = None) -> Job:  # noqa: N802
    """One job with its state, task counts, timings and the first page of its tasks."""
    return CurrentSession().get_job(job, tasks=tasks)


def WaitJob(job: Union[str, Job], timeout: Optional[float] = 60.0) -> Job:  # noqa: N802
    """Waits until a job ends and returns it; :class:`Timeout` after ``timeout`` seconds."""
    return CurrentSession().wait_job(job, timeout)


def CancelJob(job: Union[str, Job]) -> Job:  # noqa: N802
    """Cancels a job; :class:`Conflict` if it already ended."""
    return CurrentSession().cancel_job(job)


def GetTask(task: Union[str, Task]) -> Task:  # noqa: N802
    """One task with its history of attempts."""
    return CurrentSession().get_task(task)


def GetTaskResult(task: Union[str, Task]) -> Any:  # noqa: N802
    """A task's whole result, which views show only up to 64 KiB."""
    return CurrentSession().get_task_result(task)


def JobTasks(job: Union[str, Job], state: Optional[str] = None) -> Iterator[Task]:  # noqa: N802
    """Every task of a job, by index, read a page at a time."""
    return CurrentSession().iter_job_tasks(job, state)


def ListRunningTasks() -> List[Task]:  # noqa: N802
    """The tasks running right now."""
    return CurrentSession().list_running_tasks()


def StreamLogs(  # noqa: N802
    job: Union[str, Job, None] = None,
    *,
    task: Union[str, Task, None] = None,
    after: int = 0,
    include_end: bool = False,
    timeout: Optional[float] = None,
) -> Iterator[Union[LogEntry, LogEnd]]:
    """Follows a job's (or ``task=``'s) output until it ends; see :meth:`Client.stream_logs`."""
    return CurrentSession().stream_logs(job, task=task, after=after, include_end=include_end, timeout=timeout)


def Aggregate(  # noqa: N802
    source: str,
    *,
    aggregates: Sequence[AggregateSpec] = ("count",),
    group_by: Union[str, Sequence[str], None] = None,
    filter: Optional[Sequence[FilterSpec]] = None,  # noqa: A002
    order_by: Union[OrderSpec, Sequence[OrderSpec], None] = None,
    limit: Optional[int] = None,
    format: Optional[str] = None,  # noqa: A002
    timeout: Optional[float] = 300.0,
    as_: str = "rows",
    **options: Any,
) -> Any:
    """Runs a group-by over ``source`` (``s3://bucket/prefix/`` or a store name), waits, and returns
    the result: a list of dicts, or with ``as_="arrow"``/``"pandas"`` a pyarrow Table / DataFrame.
    See :meth:`Client.aggregate`."""
    return CurrentSession().aggregate(
        source,
        aggregates=aggregates,
        group_by=group_by,
        filter=filter,
        order_by=order_by,
        limit=limit,
        format=format,
        timeout=timeout,
        as_=as_,
        **options,
    )


