"""Dataclasses for what the API returns: workers, jobs (with a dataflow job's stages), tasks,
object stores, log entries, tenants, and applications' pipelines with their tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional

__all__ = [
    "Worker",
    "Job",
    "Task",
    "TaskCounts",
    "Stage",
    "Attempt",
    "AggregateProgress",
    "ObjectStore",
    "LogEntry",
    "LogEnd",
    "TenantToken",
    "Tenant",
    "Identity",
    "Pipeline",
    "PipelineStep",
    "PipelineTask",
    "PipelineSubmission",
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
    isolation: Optional[str] = None
    """What its command and pipeline tasks run in: ``bwrap`` or ``none``; None before its agent said hello."""
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
            isolation=data.get("isolation"),
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
    """The result when it is 64 KiB of JSON or less; else None, and ``result_omitted``."""
    log_truncated: bool
    created_at: Optional[datetime]
    assigned_at: Optional[datetime]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    history: Optional[List[Attempt]] = None
    """Every ended attempt, oldest first; only from ``get_task``."""
    result_bytes: Optional[int] = None
    """Bytes of the stored result's JSON; None: no result."""
    result_omitted: bool = False
    """The result is larger than views show: ``Client.get_task_result`` reads it whole."""
    stage: Optional[str] = None
    """A dataflow task's stage; None for other jobs' tasks."""
    instance: Optional[int] = None
    """A dataflow task's instance in its stage (0 to its parallelism - 1)."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the task has ended."""
        return self.state in JOB_END_STATES

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Task":
        """Builds a Task from the API's JSON (``TaskView``)."""
        history = data.get("history")
        stage = data.get("stage") or {}
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
            result_bytes=data.get("resultBytes"),
            result_omitted=bool(data.get("resultOmitted", False)),
            stage=stage.get("name"),
            instance=stage.get("instance"),
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
class Stage:
    """One stage of a dataflow job: its place in the graph, its state and its tasks' counts."""

    name: str
    kind: str
    """``command`` or ``echo``."""
    state: str
    """``waiting`` (for its upstreams), ``running``, ``succeeded``, ``failed`` or ``cancelled``
    (never ran: the job failed or was cancelled first)."""
    parallelism: int
    depends_on: List[str]
    continue_on_failure: bool
    counts: TaskCounts
    error: Optional[str]
    """Why the stage failed or was cancelled; None otherwise."""
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    stream_from: List[str] = field(default_factory=list)
    """The stages whose records this one reads while they run (stream edges)."""
    waiting_for: Optional[str] = None
    """What its waiting stream group waits for (free slots for all its instances at once)."""
    restarts: int = 0
    """Times its stream group ran again from the start (an agent was lost)."""
    job: Optional[str] = None
    """The job an aggregate stage launched, once it has."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the stage has ended."""
        return self.state in JOB_END_STATES

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Stage":
        """Builds a Stage from the API's JSON (``StageView``)."""
        return cls(
            name=data["name"],
            kind=data.get("kind", ""),
            state=data["state"],
            parallelism=data.get("parallelism", 1),
            depends_on=list(data.get("dependsOn") or []),
            continue_on_failure=bool(data.get("continueOnFailure", False)),
            counts=TaskCounts.from_api(data.get("counts")),
            error=data.get("error"),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            stream_from=list(data.get("streamFrom") or []),
            waiting_for=data.get("waitingFor"),
            restarts=int(data.get("restarts", 0)),
            job=data.get("job"),
            raw=data,
        )


@dataclass
class AggregateProgress:
    """How far an aggregation has come."""

    phase: str
    """``map``, ``reduce``, ``final`` or ``done``."""
    rows_read: float
    bytes_read: float
    tasks_done: int
    tasks_total: int
    bytes_cached: float = 0
    """Of ``bytes_read``, what agents served from their own caches (locality)."""

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "AggregateProgress":
        """Builds AggregateProgress from the API's JSON."""
        return cls(
            phase=data["phase"],
            rows_read=data.get("rowsRead", 0),
            bytes_read=data.get("bytesRead", 0),
            tasks_done=data.get("tasksDone", 0),
            tasks_total=data.get("tasksTotal", 0),
            bytes_cached=data.get("bytesCached", 0),
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
    """The first page of its tasks; ``Client.iter_job_tasks`` reads them all."""
    progress: Optional[AggregateProgress] = None
    tasks_next: Optional[str] = None
    """The cursor of the page of tasks after ``tasks``; None: ``tasks`` holds them all."""
    remove_after: Optional[datetime] = None
    """When retention removes the ended job; None while it runs."""
    stages: List[Stage] = field(default_factory=list)
    """A dataflow job's stages, in the order submitted; empty for other kinds."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the job has ended (succeeded, failed or cancelled)."""
        return self.state in JOB_END_STATES

    @property
    def succeeded(self) -> bool:
        """True if the job ended successfully."""
        return self.state == "succeeded"

    def stage(self, name: str) -> Stage:
        """A dataflow job's stage by name; :class:`KeyError` naming the stages if it has none so named."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"job {self.id} has no stage {name!r}; its stages: {[s.name for s in self.stages]}")

    def stage_tasks(self, name: str) -> List[Task]:
        """The tasks of one stage among ``tasks`` (the view's first page), by instance.

        A stage's result is the end of each instance's stdout: ``job.stage_tasks("join")[0].result``.
        """
        self.stage(name)
        return sorted((t for t in self.tasks if t.stage == name), key=lambda t: t.instance or 0)

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
            tasks_next=data.get("tasksNext"),
            remove_after=parse_time(data.get("removeAfter")),
            stages=[Stage.from_api(s) for s in data.get("stages") or []],
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


@dataclass
class TenantToken:
    """A tenant token's record: its id and use, never the token itself."""

    id: str
    created_at: Optional[datetime]
    last_used_at: Optional[datetime]

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "TenantToken":
        """Builds a TenantToken from the API's JSON (``TenantTokenView``)."""
        return cls(
            id=data["id"],
            created_at=parse_time(data.get("createdAt")),
            last_used_at=parse_time(data.get("lastUsedAt")),
        )


@dataclass
class Tenant:
    """A tenant: its name, its weight (share of the cluster) and its tokens' records."""

    id: str
    name: str
    weight: int
    created_at: Optional[datetime]
    tokens: List[TenantToken]
    token_id: Optional[str] = None
    """Only from ``create_tenant`` and ``create_tenant_token``: the id of the token just made."""
    token: Optional[str] = field(default=None, repr=False)
    """Only from ``create_tenant`` and ``create_tenant_token``: the token just made, shown this once."""
    permissions: Dict[str, Any] = field(default_factory=dict)
    """What its jobs may do: ``jobKinds``, ``executors``, ``freeFormPrograms``, ``stores``."""
    max_queued_tasks: Optional[int] = None
    """Its queue quota; None: the default, a quarter of the cluster's bound."""
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Tenant":
        """Builds a Tenant from the API's JSON (``TenantView``)."""
        return cls(
            id=data["id"],
            name=data["name"],
            weight=data["weight"],
            created_at=parse_time(data.get("createdAt")),
            tokens=[TenantToken.from_api(t) for t in data.get("tokens") or []],
            permissions=dict(data.get("permissions") or {}),
            max_queued_tasks=data.get("maxQueuedTasks"),
            raw=data,
        )

    @classmethod
    def from_created(cls, data: Dict[str, Any]) -> "Tenant":
        """Builds a Tenant, with its new token, from the reply that made the token."""
        tenant = cls.from_api(data["tenant"])
        tenant.token_id = data["tokenId"]
        tenant.token = data["token"]
        return tenant


@dataclass
class Identity:
    """Whom a token speaks for: ``kind`` is ``admin`` or ``tenant`` (then with the tenant's id and name)."""

    kind: str
    tenant_id: Optional[str] = None
    tenant_name: Optional[str] = None

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Identity":
        """Builds an Identity from the API's JSON (``WhoAmI``)."""
        return cls(kind=data["kind"], tenant_id=data.get("tenantId"), tenant_name=data.get("tenantName"))


@dataclass
class Pipeline:
    """A pipeline of an application: one version's definition, and the pipeline's load figures."""

    application: str
    name: str
    version: int
    latest_version: int
    definition: Dict[str, Any]
    """The steps (``pipeline``), ``result``, ``maxConcurrency`` … as stored, defaults filled in."""
    executors: List[str]
    stats: Dict[str, Any]
    """``queued``, ``running``, ``wantedAgents`` … (docs/pipelines.md)."""
    created_at: Optional[datetime]
    updated_at: Optional[datetime]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "Pipeline":
        """Builds a Pipeline from the API's JSON (``PipelineView``)."""
        return cls(
            application=data["application"],
            name=data["name"],
            version=data["version"],
            latest_version=data["latestVersion"],
            definition=dict(data.get("definition") or {}),
            executors=list(data.get("executors") or []),
            stats=dict(data.get("stats") or {}),
            created_at=parse_time(data.get("createdAt")),
            updated_at=parse_time(data.get("updatedAt")),
            raw=data,
        )


@dataclass
class PipelineStep:
    """One step of a pipeline task: its state, exit code and (once the task succeeded) its stdout."""

    name: str
    executor: str
    state: str
    """``pending``, ``running``, ``succeeded`` or ``failed``."""
    exit_code: Optional[int]
    output: Optional[str]
    truncated: bool
    started_at: Optional[datetime]
    finished_at: Optional[datetime]

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "PipelineStep":
        """Builds a PipelineStep from the API's JSON (``StepView``)."""
        return cls(
            name=data["name"],
            executor=data["executor"],
            state=data["state"],
            exit_code=data.get("exitCode"),
            output=data.get("output"),
            truncated=bool(data.get("truncated", False)),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
        )


@dataclass
class PipelineTask:
    """One task of a pipeline: its data, steps and result, or why it still waits."""

    id: str
    job_id: str
    application: str
    pipeline: str
    version: int
    index: int
    state: str
    attempt: int
    worker_id: Optional[str]
    data: Dict[str, str]
    steps: List[PipelineStep]
    result: Optional[str]
    """The stdout of the pipeline's result step, once the task has succeeded."""
    exit_code: Optional[int]
    error: Optional[str]
    waiting: Optional[str]
    """Why a queued task is not running yet."""
    created_at: Optional[datetime]
    started_at: Optional[datetime]
    finished_at: Optional[datetime]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        """True once the task has ended."""
        return self.state in JOB_END_STATES

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "PipelineTask":
        """Builds a PipelineTask from the API's JSON (``PipelineTaskView``)."""
        return cls(
            id=data["id"],
            job_id=data["jobId"],
            application=data["application"],
            pipeline=data["pipeline"],
            version=data["version"],
            index=data.get("index", 0),
            state=data["state"],
            attempt=data.get("attempt", 0),
            worker_id=data.get("workerId"),
            data=dict(data.get("data") or {}),
            steps=[PipelineStep.from_api(s) for s in data.get("steps") or []],
            result=data.get("result"),
            exit_code=data.get("exitCode"),
            error=data.get("error"),
            waiting=data.get("waiting"),
            created_at=parse_time(data.get("createdAt")),
            started_at=parse_time(data.get("startedAt")),
            finished_at=parse_time(data.get("finishedAt")),
            raw=data,
        )


@dataclass
class PipelineSubmission:
    """Tasks submitted to a pipeline as one job: every task's id, and the first 100 in full."""

    application: str
    pipeline: str
    version: int
    job_id: str
    task_ids: List[str]
    tasks: List[PipelineTask]

    @classmethod
    def from_api(cls, data: Dict[str, Any]) -> "PipelineSubmission":
        """Builds a PipelineSubmission from the API's JSON."""
        return cls(
            application=data["application"],
            pipeline=data["pipeline"],
            version=data["version"],
            job_id=data["jobId"],
            task_ids=list(data["taskIds"]),
            tasks=[PipelineTask.from_api(t) for t in data.get("tasks") or []],
        )
