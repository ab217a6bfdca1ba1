"""The client's calls for tenants (the admin's) and for applications' pipelines (a tenant's)."""

from __future__ import annotations

import urllib.parse
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ._http import Transport
from .models import Identity, Pipeline, PipelineSubmission, PipelineTask, Tenant

#: One task's data: the values of the ``{{variables}}`` of its pipeline's commands.
TaskData = Mapping[str, Union[str, int, float, bool]]


#: ``max_queued_tasks`` not given to :meth:`TenantsAndPipelines.update_tenant`.
_UNSET = object()


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _tenant_path(tenant: Union[str, Tenant]) -> str:
    return f"/v1/tenants/{_segment(tenant if isinstance(tenant, str) else tenant.id)}"


def _pipeline_path(app: str, pipeline: str) -> str:
    return f"/api/applications/{_segment(app)}/pipelines/{_segment(pipeline)}"


class TenantsAndPipelines:
    """Mixed into :class:`Client`. Tenants need the admin token; pipelines a tenant's token."""

    _http: Transport

    # -- tenants (admin) -------------------------------------------------------------------------

    def create_tenant(
        self,
        name: str,
        *,
        weight: Optional[int] = None,
        permissions: Optional[Mapping[str, Any]] = None,
        max_queued_tasks: Optional[int] = None,
    ) -> Tenant:
        """Makes a tenant and its first token: ``token`` is set on the result, shown only this once.

        ``permissions`` grants more than the defaults (``jobKinds``, ``executors``,
        ``freeFormPrograms``, ``stores``: see docs/security.md); ``max_queued_tasks`` is its queue
        quota (default: a quarter of the cluster's bound)."""
        body: Dict[str, Any] = {"name": name}
        if weight is not None:
            body["weight"] = weight
        if permissions is not None:
            body["permissions"] = dict(permissions)
        if max_queued_tasks is not None:
            body["maxQueuedTasks"] = max_queued_tasks
        return Tenant.from_created(self._http.json("POST", "/v1/tenants", body=body)[1])

    def list_tenants(self) -> List[Tenant]:
        """Every tenant with its tokens' ids and last use (never the tokens)."""
        return [Tenant.from_api(t) for t in self._http.json("GET", "/v1/tenants")[1]["tenants"]]

    def get_tenant(self, tenant: Union[str, Tenant]) -> Tenant:
        """One tenant, by id or name."""
        return Tenant.from_api(self._http.json("GET", _tenant_path(tenant))[1])

    def set_tenant_weight(self, tenant: Union[str, Tenant], weight: int) -> Tenant:
        """Sets a tenant's weight, its share of the cluster under contention (1-1000)."""
        return Tenant.from_api(self._http.json("PATCH", _tenant_path(tenant), body={"weight": weight})[1])

    def update_tenant(
        self,
        tenant: Union[str, Tenant],
        *,
        weight: Optional[int] = None,
        permissions: Optional[Mapping[str, Any]] = None,
        max_queued_tasks: Union[int, None, object] = _UNSET,
    ) -> Tenant:
        """Sets a tenant's weight, permissions (the fields given replace the tenant's) or queue
        quota (``None``: back to the default)."""
        body: Dict[str, Any] = {}
        if weight is not None:
            body["weight"] = weight
        if permissions is not None:
            body["permissions"] = dict(permissions)
        if max_queued_tasks is not _UNSET:
            body["maxQueuedTasks"] = max_queued_tasks
        return Tenant.from_api(self._http.json("PATCH", _tenant_path(tenant), body=body)[1])

    def create_tenant_token(self, tenant: Union[str, Tenant]) -> Tenant:
        """Makes another token for a tenant (rotation): ``token`` is set on the result, shown only
        this once. The older tokens keep working until :meth:`revoke_tenant_token`."""
        return Tenant.from_created(self._http.json("POST", f"{_tenant_path(tenant)}/tokens")[1])

    def revoke_tenant_token(self, tenant: Union[str, Tenant], token_id: str) -> Tenant:
        """Revokes one of a tenant's tokens by its id; returns the tenant with the tokens left."""
        path = f"{_tenant_path(tenant)}/tokens/{_segment(token_id)}"
        return Tenant.from_api(self._http.json("DELETE", path)[1])

    def whoami(self) -> Identity:
        """Whom this client's token speaks for: the admin, or a tenant."""
        return Identity.from_api(self._http.json("GET", "/v1/whoami")[1])

    # -- applications and pipelines (tenant) ------------------------------------------------------

    def put_pipeline(self, app: str, definition: Mapping[str, Any]) -> Pipeline:
        """Defines a pipeline of ``app`` (made on first use), or adds a version when the definition
        changed. ``definition`` is the API's body: ``{"name", "pipeline": [{"executor", "commands"}], …}``."""
        path = f"/api/applications/{_segment(app)}/pipelines"
        return Pipeline.from_api(self._http.json("POST", path, body=dict(definition))[1])

    def get_pipeline(self, app: str, pipeline: str, *, version: Optional[int] = None) -> Pipeline:
        """A pipeline with its load figures; ``version`` shows an earlier version's definition."""
        return Pipeline.from_api(self._http.json("GET", _pipeline_path(app, pipeline), query={"version": version})[1])

    def list_applications(self) -> List[Dict[str, Any]]:
        """The tenant's applications: ``{"name", "createdAt", "pipelines": [{"name", "version", …}]}`` each."""
        return list(self._http.json("GET", "/api/applications")[1]["applications"])

    def delete_pipeline(self, app: str, pipeline: str) -> Pipeline:
        """Deletes a pipeline and its versions; :class:`Conflict` while any of its tasks is unfinished."""
        return Pipeline.from_api(self._http.json("DELETE", _pipeline_path(app, pipeline))[1])

    def submit_pipeline_task(
        self, app: str, pipeline: str, data: TaskData, wait: Optional[float] = None
    ) -> PipelineSubmission:
        """Submits one task; with ``wait`` the reply waits up to that many seconds for it to end."""
        return self._submit(app, pipeline, dict(data), wait)

    def submit_pipeline_tasks(
        self, app: str, pipeline: str, items: Sequence[TaskData], wait: Optional[float] = None
    ) -> PipelineSubmission:
        """Submits a batch, one task per item, as one job; ``wait`` as for :meth:`submit_pipeline_task`."""
        return self._submit(app, pipeline, [dict(item) for item in items], wait)

    def _submit(self, app: str, pipeline: str, body: Any, wait: Optional[float]) -> PipelineSubmission:
        timeout = self._http.timeout_for_wait(wait)
        _, reply = self._http.json("POST", _pipeline_path(app, pipeline), query={"wait": wait}, body=body, timeout=timeout)
        return PipelineSubmission.from_api(reply)

    def get_pipeline_task(self, app: str, pipeline: str, task_id: str) -> PipelineTask:
        """One task of a pipeline: its steps with exit codes and output, its result, why it waits."""
        path = f"{_pipeline_path(app, pipeline)}/tasks/{_segment(task_id)}"
        return PipelineTask.from_api(self._http.json("GET", path)[1])
