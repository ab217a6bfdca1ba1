"""Dataclasses for what the API returns: workers, jobs, tasks, object stores, log entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

__all__ = [
    "Worker",
    "Job",
    "Task",
    "TaskCounts",
    "Attempt",
    "AggregateProgress",
    "ObjectStore",
    "LogEntry",
    "LogEnd",
    "JOB_END_STATES",
]

#: Job (and task) states after which nothing changes any more.
JOB_END_STATES = frozenset({"succeeded", "failed", "cancelled"})


def parse_time(value: Optional[str]) -> Optional[datetime]:
    """Parses the API's ISO timestamps (``2024-01-01T00:00:00.000Z``) to aware datetimes."""
    if not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        # Python 3.9/3.10 accept only 0, 3 or 6 fractional digits.
        head, dot, rest = text.partition(".")
        if not dot:
            raise
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits):]
        return datetime.fromisoformat(f"{head}.{(digits + '000000')[:6]}{zone}")


@dataclass
class Worker:
    """A registered worker (agent) with its health as the control plane sees it."""

    id: str
    address: str
    state: str
    """``pending`` (registered, never connected), ``ready``, ``draining``, ``lost`` or ``gone``."""
    labels: Dict[str, str]
    slots: int
    connected: bool
    last_heartbeat_age_ms: Optional[float]
    running_tasks: int
    accepts_commands: bool
    accepting_tasks: bool
    registered_at: Optional[datetime]
    created: Optional[bool] = None
    """Only on registration: True if this call created it, False if the address was already registered."""
    join_token: Optional[str] = field(default=None, repr=False)
    """Only on a registration that created the worker: its join token, shown this once."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def healthy(self) -> bool:
        """Connected, ready and taking tasks."""
        return self.connected and self.state == "ready" and self.accepting_tasks

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Worker":
        """Builds a Worker from the API's JSON (``WorkerView``)."""
        return cls(
            id=data["id"],
            address=data["address"],
            state=data["state"],
            labels=dict(data.get("labels") or {}),
            slots=data.get("slots", 0),
            connected=bool(data.get("connected")),
            last_heartbeat_age_ms=data.get("lastHeartbeatAgeMs"),
            running_tasks=data.get("runningTasks", 0),
            accepts_commands=bool(data.get("acceptsCommands", False)),
            accepting_tasks=bool(data.get("acceptingTasks", False)),
            registered_at=parse_time(data.get("registeredAt")),
            raw=data,
        )


@dataclass
class Attempt:
    """One ended attempt of a task (``Task.history``)."""

    attempt: int
    worker_id: Optional[str]
    outcome: str
    """``succeeded``, ``failed``, ``timed_out``, ``lost`` or ``cancelled``."""
    error: Optional[str]
    exit_code: Optional[int]
    assigned_at: Optional[datetime]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Attempt":
        """Builds an Attempt from the API's JSON (``AttemptView``)."""
        return cls(
            attempt=data["attempt"],
            worker_id=data.get("workerId"),
            outcome=data["outcome"],
            error=data.get("error"),
            exit_code=data.get("exitCode"),
            assigned_at=parse_time(data.get("assignedAt")),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
        )


@dataclass
class Task:
    """One task of a job: a command run on one worker, an echo, or an aggregation step."""

    id: str
    job_id: str
    index: int
    kind: str
    state: str
    """``queued``, ``assigned``, ``running``, ``succeeded``, ``failed`` or ``cancelled``."""
    attempt: int
    worker_id: Optional[str]
    pinned_worker_id: Optional[str]
    exit_code: Optional[int]
    error: Optional[str]
    result: Any
    log_truncated: bool
    created_at: Optional[datetime]
    assigned_at: Optional[datetime]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    history: Optional[List[Attempt]] = None
    """Every ended attempt, oldest first; only from ``get_task``."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the task has ended."""
        return self.state in JOB_END_STATES

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Task":
        """Builds a Task from the API's JSON (``TaskView``)."""
        history = data.get("history")
        return cls(
            id=data["id"],
            job_id=data["jobId"],
            index=data.get("index", 0),
            kind=data.get("kind", ""),
            state=data["state"],
            attempt=data.get("attempt", 0),
            worker_id=data.get("workerId"),
            pinned_worker_id=data.get("pinnedWorkerId"),
            exit_code=data.get("exitCode"),
            error=data.get("error"),
            result=data.get("result"),
            log_truncated=bool(data.get("logTruncated", False)),
            created_at=parse_time(data.get("createdAt")),
            assigned_at=parse_time(data.get("assignedAt")),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            history=None if history is None else [Attempt.from_api(a) for a in history],
            raw=data,
        )


@dataclass
class TaskCounts:
    """How many of a job's tasks are in each state."""

    queued: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0

    @classmethod
    def from_api(cls, data: Optional[Dict[str, Any]]) -> "TaskCounts":
        """Builds TaskCounts from the API's JSON."""
        data = data or {}
        return cls(**{k: int(data.get(k, 0)) for k in ("queued", "running", "succeeded", "failed", "cancelled")})


@dataclass
class AggregateProgress:
    """How far an aggregation has come."""

    phase: str
    """``map``, ``reduce``, ``final`` or ``done``."""
    rows_read: float
    bytes_read: float
    tasks_done: int
    tasks_total: int

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "AggregateProgress":
        """Builds AggregateProgress from the API's JSON."""
        return cls(
            phase=data["phase"],
            rows_read=data.get("rowsRead", 0),
            bytes_read=data.get("bytesRead", 0),
            tasks_done=data.get("tasksDone", 0),
            tasks_total=data.get("tasksTotal", 0),
        )


@dataclass
class Job:
    """A submitted job with its state, task counts, timings and (when asked for) tasks."""

    id: str
    name: Optional[str]
    kind: str
    state: str
    """``queued``, ``running``, ``succeeded``, ``failed`` or ``cancelled``."""
    spec: Any
    error: Optional[str]
    counts: TaskCounts
    attempts: Dict[str, int]
    """Ended attempts of the job's tasks by outcome (succeeded, failed, timed_out, lost, cancelled)."""
    created_at: Optional[datetime]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    tasks: List[Task] = field(default_factory=list)
    progress: Optional[AggregateProgress] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the job has ended (succeeded, failed or cancelled)."""
        return self.state in JOB_END_STATES

    @property
    def succeeded(self) -> bool:
        """True if the job ended successfully."""
        return self.state == "succeeded"

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Job":
        """Builds a Job from the API's JSON (``JobView``)."""
        progress = data.get("progress")
        return cls(
            id=data["id"],
            name=data.get("name"),
            kind=data.get("kind", ""),
            state=data["state"],
            spec=data.get("spec"),
            error=data.get("error"),
            counts=TaskCounts.from_api(data.get("counts")),
            attempts=dict(data.get("attempts") or {}),
            created_at=parse_time(data.get("createdAt")),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            tasks=[Task.from_api(t) for t in data.get("tasks") or []],
            progress=None if progress is None else AggregateProgress.from_api(progress),
            raw=data,
        )


@dataclass
class ObjectStore:
    """A registered S3-compatible store; its credentials are never returned, only ``has_credentials``."""

    id: str
    name: str
    url: str
    bucket: str
    prefix: str
    endpoint: Optional[str]
    region: str
    force_path_style: bool
    has_credentials: bool
    created_at: Optional[datetime]
    created: Optional[bool] = None
    """Only on registration: True if this call created it, False if it was already registered."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "ObjectStore":
        """Builds an ObjectStore from the API's JSON (``ObjectStoreView``)."""
        return cls(
            id=data["id"],
            name=data["name"],
            url=data["url"],
            bucket=data["bucket"],
            prefix=data.get("prefix", ""),
            endpoint=data.get("endpoint"),
            region=data.get("region", ""),
            force_path_style=bool(data.get("forcePathStyle", False)),
            has_credentials=bool(data.get("hasCredentials", False)),
            created_at=parse_time(data.get("createdAt")),
            raw=data,
        )


@dataclass
class LogEntry:
    """A chunk of a task's output: ``stream`` is ``stdout``, ``stderr`` or ``system``."""

    seq: int
    task_id: str
    attempt: int
    stream: str
    data: str
    at: Optional[datetime]

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "LogEntry":
        """Builds a LogEntry from the API's JSON."""
        return cls(
            seq=data["seq"],
            task_id=data["taskId"],
            attempt=data.get("attempt", 1),
            stream=data["stream"],
            data=data.get("data", ""),
            at=parse_time(data.get("at")),
        )


@dataclass
class LogEnd:
    """The end of a followed log stream: the task or job ended in ``state``."""

    state: str
