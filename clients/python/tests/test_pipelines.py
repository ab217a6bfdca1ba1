"""Tenants and applications' pipelines through tm.Client against the stack.

The stack's agents announce the stand-in executor named by ``TM_TEST_EXECUTOR`` (a script that
prints ``echo: <its arguments>``); TM_TOKEN is the admin token, so tenant calls use a tenant's own.
"""

from __future__ import annotations

import os
import unittest
import uuid

import support  # noqa: F401 - puts clients/python on sys.path
from support import URL

import TmScheduler as tm

EXECUTOR = os.environ.get("TM_TEST_EXECUTOR", "py-echo")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def echo_pipeline(name: str = "say") -> dict:
    return {"name": name, "pipeline": [{"executor": EXECUTOR, "commands": [EXECUTOR + " {{word}}"]}]}


class TenantsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.admin = tm.Client(URL)

    def test_a_new_tenants_token_speaks_for_it(self) -> None:
        name = unique("py")
        tenant = self.admin.create_tenant(name, weight=2)
        self.assertIsInstance(tenant, tm.Tenant)
        self.assertEqual((tenant.name, tenant.weight), (name, 2))
        self.assertTrue(tenant.token and tenant.token.startswith("tmt_"))
        self.assertNotIn(tenant.token, repr(tenant))
        self.assertEqual([t.id for t in tenant.tokens], [tenant.token_id])

        identity = tm.Client(URL, token=tenant.token).whoami()
        self.assertEqual(identity, tm.Identity(kind="tenant", tenant_id=tenant.id, tenant_name=name))
        self.assertEqual(self.admin.whoami().kind, "admin")
        listed = {t.name: t for t in self.admin.list_tenants()}
        self.assertEqual(listed[name].weight, 2)
        self.assertIsNone(listed[name].token)

    def test_rotate_then_revoke_the_old_token(self) -> None:
        first = self.admin.create_tenant(unique("py"))
        second = self.admin.create_tenant_token(first.name)
        self.assertNotEqual(second.token, first.token)
        self.assertEqual(len(second.tokens), 2)
        left = self.admin.revoke_tenant_token(first, first.token_id or "")
        self.assertEqual([t.id for t in left.tokens], [second.token_id])
        with self.assertRaises(tm.Unauthorized):
            tm.Client(URL, token=first.token).whoami()
        self.assertEqual(tm.Client(URL, token=second.token).whoami().tenant_id, first.id)
        self.assertEqual(self.admin.set_tenant_weight(first.name, 5).weight, 5)
        self.assertEqual(self.admin.get_tenant(first.id).weight, 5)

    def test_permissions_start_safe_and_grants_are_enforced(self) -> None:
        tenant = self.admin.create_tenant(unique("py"), max_queued_tasks=7)
        self.assertEqual(tenant.permissions["jobKinds"], ["echo", "pipeline", "aggregate"])
        self.assertEqual((tenant.permissions["executors"], tenant.max_queued_tasks), ([], 7))
        client = tm.Client(URL, token=tenant.token)
        with self.assertRaises(tm.Forbidden) as refused:
            client.submit_job("true", workers=1)
        self.assertIn("may not submit command jobs", str(refused.exception))
        granted = self.admin.update_tenant(tenant, permissions={"jobKinds": ["command"]}, max_queued_tasks=None)
        self.assertEqual((granted.permissions["jobKinds"], granted.max_queued_tasks), (["command"], None))
        self.assertEqual(client.submit_job("true", workers=1, wait=30).state, "succeeded")

    def test_tenant_tokens_are_forbidden_the_cluster_routes(self) -> None:
        tenant = self.admin.create_tenant(unique("py"))
        with self.assertRaises(tm.Forbidden):
            tm.Client(URL, token=tenant.token).list_workers()


class PipelinesTest(unittest.TestCase):
    def setUp(self) -> None:
        admin = tm.Client(URL)
        # A new tenant may name no executor until the admin grants it one.
        tenant = admin.create_tenant(unique("py"), permissions={"executors": [EXECUTOR]})
        self.client = tm.Client(URL, token=tenant.token)
        self.app = unique("app")
        self.client.put_pipeline(self.app, echo_pipeline())

    def test_define_and_version(self) -> None:
        again = self.client.put_pipeline(self.app, {**echo_pipeline(), "maxConcurrency": 2})
        self.assertIsInstance(again, tm.Pipeline)
        self.assertEqual((again.version, again.executors), (2, [EXECUTOR]))
        first = self.client.get_pipeline(self.app, "say", version=1)
        self.assertEqual((first.version, first.latest_version), (1, 2))
        self.assertEqual(first.definition["maxConcurrency"], 100)
        self.assertEqual([a["name"] for a in self.client.list_applications()], [self.app])

    def test_submit_one_task_and_wait_for_its_result(self) -> None:
        submitted = self.client.submit_pipeline_task(self.app, "say", {"word": "hello"}, wait=60)
        self.assertIsInstance(submitted, tm.PipelineSubmission)
        [task] = submitted.tasks
        self.assertEqual((task.state, task.result), ("succeeded", "echo: hello\n"))
        again = self.client.get_pipeline_task(self.app, "say", submitted.task_ids[0])
        self.assertIsInstance(again, tm.PipelineTask)
        self.assertEqual(again.data, {"word": "hello"})
        [step] = again.steps
        self.assertEqual((step.executor, step.state, step.exit_code, step.output), (EXECUTOR, "succeeded", 0, "echo: hello\n"))

    def test_submit_a_batch_as_one_job(self) -> None:
        submitted = self.client.submit_pipeline_tasks(self.app, "say", [{"word": "a"}, {"word": 2}], wait=60)
        self.assertEqual(len(submitted.task_ids), 2)
        self.assertEqual({t.job_id for t in submitted.tasks}, {submitted.job_id})
        self.assertEqual([t.result for t in submitted.tasks], ["echo: a\n", "echo: 2\n"])

    def test_refusals_map_to_errors(self) -> None:
        with self.assertRaises(tm.NotFound):
            self.client.get_pipeline(self.app, "nope")
        with self.assertRaises(tm.BadRequest) as missing:
            self.client.submit_pipeline_task(self.app, "say", {"other": "x"})
        self.assertIn('variable "word" is missing', str(missing.exception))
        self.client.delete_pipeline(self.app, "say")
        with self.assertRaises(tm.NotFound):
            self.client.get_pipeline(self.app, "say")


if __name__ == "__main__":
    unittest.main()
