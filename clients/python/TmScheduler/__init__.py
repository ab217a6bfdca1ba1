"""TM Scheduler's Python client (standard library only).

Seed style, over one default session::

    import TmScheduler as tm

    tm.NewSession("localhost:8080")
    tm.RegisterWorker("localhost:50051")
    tm.RegisterObjectStore("s3://test-bucket")
    job = tm.SubmitJob("echo hello", workers=1)
    for entry in tm.StreamLogs(job.id):
        print(entry.data, end="")
    flow = tm.SubmitDataflow([{"name": "a", "command": "echo hi"},
                              {"name": "b", "command": 'echo "$TM_INPUT_a"', "depends_on": ["a"]}], wait=60)

Or the client object, with snake_case methods returning dataclasses::

    client = tm.Client("localhost:8080", token="...")
    client.list_workers()
"""

__version__ = "0.1.0"

from .client import Client  # noqa: E402
from .errors import (  # noqa: E402
    BadRequest,
    Conflict,
    ConnectionError,
    Forbidden,
    JobFailed,
    JobFileError,
    MissingDependency,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    StoreUnavailable,
    Timeout,
    TmError,
    Unauthorized,
)
from .models import (  # noqa: E402
    JOB_END_STATES,
    AggregateProgress,
    Attempt,
    Job,
    LogEnd,
    LogEntry,
    Identity,
    ObjectStore,
    Pipeline,
    PipelineStep,
    PipelineSubmission,
    PipelineTask,
    Stage,
    Task,
    TaskCounts,
    Tenant,
    TenantToken,
    Worker,
)
from .session import (  # noqa: E402
    Aggregate,
    CancelJob,
    CurrentSession,
    DeregisterWorker,
    GetJob,
    GetTask,
    GetTaskResult,
    JobTasks,
    ListRunningTasks,
    ListWorkers,
    NewSession,
    RegisterObjectStore,
    RegisterWorker,
    StreamLogs,
    SubmitDataflow,
    SubmitJob,
    SubmitJobFile,
    WaitJob,
)

from . import errors as _errors, models as _models, session as _session  # noqa: E402

__all__ = ["__version__", "Client", *_errors.__all__, *_models.__all__, *_session.__all__]
