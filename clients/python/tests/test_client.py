"""The Pythonic layer (tm.Client, dataclasses) against the stack, and error mapping and auth
headers against a tiny local HTTP server that answers what the stack cannot be made to."""

from __future__ import annotations

import json
import logging
import contextlib
import os
import tempfile
import threading
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple
from unittest import mock

import support  # noqa: F401 - puts clients/python on sys.path
from support import AGENTS, STORE, URL

import TmScheduler as tm
from TmScheduler._http import normalize_base_url
from TmScheduler._local import local_admin_token


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


class ClientDataclassTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client = tm.Client(URL)

    def test_workers_are_dataclasses_with_health(self) -> None:
        workers = self.client.list_workers()
        self.assertTrue(all(isinstance(w, tm.Worker) for w in workers))
        ready = [w for w in workers if w.state == "ready"]
        self.assertEqual(len(ready), AGENTS)
        for worker in ready:
            self.assertTrue(worker.connected and worker.healthy)
            self.assertIsInstance(worker.last_heartbeat_age_ms, (int, float))
            self.assertGreaterEqual(worker.slots, 1)
            self.assertIsInstance(worker.registered_at, datetime)
            self.assertIn(worker.isolation, ("bwrap", "none"))
            self.assertEqual(self.client.get_worker(worker.address).id, worker.id)
            self.assertEqual(self.client.get_worker(worker.id).address, worker.address)
        self.assertEqual(len(self.client.list_workers("ready")), AGENTS)

    def test_register_twice_then_deregister_by_address(self) -> None:
        address = f"localhost:{40000 + uuid.uuid4().int % 20000}"
        first = self.client.register_worker(address, labels={"zone": "test"}, slots=2)
        self.assertIs(first.created, True)
        self.assertIsInstance(first.join_token, str)
        self.assertEqual((first.state, first.labels, first.slots), ("pending", {"zone": "test"}, 2))
        with self.assertLogs("TmScheduler", logging.INFO) as logs:
            second = self.client.register_worker(address)
        self.assertIs(second.created, False)
        self.assertEqual(second.id, first.id)
        self.assertIn(f"worker {address} is already registered", logs.output[0])
        gone = tm.NewSession(URL) and tm.DeregisterWorker(address, force=True)
        self.assertEqual((gone.id, gone.state), (first.id, "gone"))
        with self.assertRaises(tm.NotFound):
            self.client.deregister_worker(address)

    def test_jobs_and_tasks_are_dataclasses(self) -> None:
        payload = {"n": 7, "tags": ["a", "b"]}
        job = self.client.submit_job({"kind": "echo", "payload": payload, "count": 3}, wait=30)
        self.assertIsInstance(job, tm.Job)
        self.assertEqual((job.kind, job.state, job.done, job.succeeded), ("echo", "succeeded", True, True))
        self.assertEqual(job.counts, tm.TaskCounts(succeeded=3))
        self.assertEqual(job.attempts["succeeded"], 3)
        self.assertIsInstance(job.created_at, datetime)
        self.assertLessEqual(job.created_at, job.finished_at)
        self.assertEqual(len(job.tasks), 3)
        for task in job.tasks:
            self.assertIsInstance(task, tm.Task)
            self.assertEqual(task.result, payload)
            self.assertEqual(task.job_id, job.id)
        task = self.client.get_task(job.tasks[0].id)
        self.assertEqual(len(task.history or []), 1)
        self.assertIsInstance(task.history[0], tm.Attempt)
        self.assertEqual(task.history[0].outcome, "succeeded")
        self.assertIn(job.id, [j.id for j in self.client.list_jobs("succeeded", limit=50)])
        hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
        self.assertIn(job.id, [j.id for j in self.client.list_jobs(kind="echo", since=hour_ago)])
        self.assertNotIn(job.id, [j.id for j in self.client.list_jobs(kind="command")])
        self.assertNotIn(job.id, [j.id for j in self.client.iter_jobs(until=hour_ago)])
        with self.assertRaises(tm.BadRequest):
            self.client.list_jobs(since="yesterday")

    def test_tasks_are_paged_and_large_results_read_whole(self) -> None:
        payload = "x" * (70 * 1024)
        job = self.client.submit_job({"kind": "echo", "payload": payload, "count": 5}, wait=30)
        self.assertEqual(job.state, "succeeded")
        first = self.client.get_job(job, tasks=2)
        self.assertEqual([t.index for t in first.tasks], [0, 1])
        self.assertIsInstance(first.tasks_next, str)
        # Past 64 KiB a view shows the result by its size; the whole one is a call away.
        self.assertEqual((first.tasks[0].result, first.tasks[0].result_omitted), (None, True))
        self.assertEqual(first.tasks[0].result_bytes, len(payload) + 2)
        self.assertEqual(self.client.get_task_result(first.tasks[0]), payload)
        tasks = list(self.client.iter_job_tasks(job, page_size=2))
        self.assertEqual([t.index for t in tasks], [0, 1, 2, 3, 4])
        self.assertEqual(len({t.id for t in tasks}), 5)
        tm.NewSession(URL)
        self.assertEqual([t.id for t in tm.JobTasks(job.id)], [t.id for t in tasks])
        self.assertEqual(tm.GetTaskResult(tasks[4].id), payload)
        newest = list(self.client.iter_tasks("succeeded", page_size=2))
        self.assertTrue({t.id for t in tasks} <= {t.id for t in newest})
        self.assertIn(job.id, [j.id for j in self.client.iter_jobs("succeeded", page_size=3)])

    def test_command_options_and_logs_page(self) -> None:
        job = self.client.submit_job(
            ["sh", "-c", 'echo "$GREETING from $(basename "$PWD") try $TM_ATTEMPT"'],
            env={"GREETING": "hello"},
            path="worker",
            timeout_seconds=30,
            retry_backoff={"initial_seconds": 0.1, "max_seconds": 1},
        )
        self.assertEqual(job.spec["timeoutSeconds"], 30)
        # snake_case options reach the API camelCased (it rejects unknown fields): a bad one is named.
        with self.assertRaises(tm.BadRequest) as caught:
            self.client.submit_job("true", retry_backoff={"initial_seconds": 5, "max_seconds": 1})
        self.assertIn("retryBackoff.initialSeconds must not exceed", caught.exception.message)
        # A job may be kept for less than the cluster's retention (7 days here), never for more.
        with self.assertRaises(tm.BadRequest) as caught:
            self.client.submit_job("true", retention_seconds=8 * 24 * 3600)
        self.assertIn("TM_RETENTION_SECONDS", caught.exception.message)
        done = self.client.wait_job(job, timeout=30)
        self.assertEqual(done.state, "succeeded", done.error)
        # Kept the cluster's 7 days once ended.
        assert done.finished_at is not None and done.remove_after is not None
        self.assertEqual((done.remove_after - done.finished_at).total_seconds(), 7 * 24 * 3600)
        entries = self.client.logs(done)
        self.assertTrue(all(isinstance(e, tm.LogEntry) for e in entries))
        self.assertEqual("".join(e.data for e in entries if e.stream == "stdout"), "hello from worker try 1\n")

    def test_object_stores(self) -> None:
        stores = {s.name: s for s in self.client.list_object_stores()}
        store = stores[STORE]
        self.assertIsInstance(store, tm.ObjectStore)
        self.assertEqual((store.bucket, store.url), ("test-bucket", "s3://test-bucket"))
        self.assertTrue(store.has_credentials)
        self.assertNotIn("secret", json.dumps(store.raw).lower())
        keys = [o["key"] for o in self.client.list_objects(STORE, support.PREFIX)]
        self.assertTrue(keys and all(k.startswith(support.PREFIX) and k.endswith(".csv") for k in keys), keys)
        # A new store under a new name, then the same registration again, then gone.
        name = f"py-{uuid.uuid4().hex[:8]}"
        url = f"s3://test-bucket/{name}"
        created = self.client.register_object_store(url, name=name, endpoint=store.endpoint, region="us-east-1")
        self.assertIs(created.created, True)
        self.assertEqual((created.prefix, created.has_credentials), (f"{name}/", False))
        again = self.client.register_object_store(url, name=name, endpoint=store.endpoint, region="us-east-1")
        self.assertEqual((again.created, again.id), (False, created.id))
        self.assertEqual(self.client.delete_object_store(name).id, created.id)
        with self.assertRaises(tm.NotFound):
            self.client.get_object_store(name)


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with the status, headers and body queued for its path."""

    replies: Dict[str, Tuple[int, Dict[str, str], bytes]] = {}
    seen: List[Dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        status, headers, body = self.replies.get(self.path.split("?")[0], (404, {}, b""))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


class ErrorMappingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.address = f"127.0.0.1:{cls.server.server_address[1]}"
        Recorder.replies = {
            "/v1/health": (200, {"Content-Type": "application/json"}, b'{"ok":true,"connectedWorkers":0}'),
            "/v1/jobs": (429, {"Retry-After": "5"}, _error("rate_limited", "the queue is full")),
            "/v1/workers": (401, {}, _error("unauthorized", "bad token")),
            "/v1/tasks": (502, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>"),
            "/v1/object-stores": (500, {}, _error("internal", "internal error")),
        }

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()

    def test_statuses_become_typed_errors(self) -> None:
        client = tm.Client(self.address)
        with self.assertRaises(tm.RateLimited) as limited:
            client.list_jobs()
        self.assertEqual((limited.exception.status, limited.exception.retry_after), (429, 5.0))
        self.assertEqual(limited.exception.message, "the queue is full")
        with self.assertRaises(tm.Unauthorized) as unauthorized:
            client.list_workers()
        self.assertEqual(unauthorized.exception.code, "unauthorized")
        with self.assertRaises(tm.StoreUnavailable) as bad_gateway:
            client.list_tasks()
        self.assertIn("Bad gateway", bad_gateway.exception.message)  # a non-JSON body, quoted
        with self.assertRaises(tm.ServerError):
            client.list_object_stores()
        for error in (limited, unauthorized, bad_gateway):
            self.assertIsInstance(error.exception, tm.TmError)

    def test_token_from_argument_or_environment(self) -> None:
        Recorder.seen.clear()
        tm.Client(self.address, token="abc").health()
        with mock.patch.dict(os.environ, {"TM_TOKEN": "from-env"}):
            tm.Client(self.address).health()
        with mock.patch.dict(os.environ, {}, clear=False), tempfile.TemporaryDirectory() as empty:
            os.environ.pop("TM_TOKEN", None)
            with working_directory(Path(empty)):
                tm.Client(self.address).health()
        self.assertEqual([s["authorization"] for s in Recorder.seen], ["Bearer abc", "Bearer from-env", None])

    def test_local_stack_token_only_for_loopback(self) -> None:
        Recorder.seen.clear()
        with mock.patch.dict(os.environ, {}, clear=False), tempfile.TemporaryDirectory() as root:
            os.environ.pop("TM_TOKEN", None)
            (Path(root) / ".tm").mkdir()
            (Path(root) / ".tm" / "admin-token").write_text("tma_local\n", encoding="utf-8")
            nested = Path(root) / "a" / "b"
            nested.mkdir(parents=True)
            with working_directory(nested):
                tm.Client(self.address).health()
                self.assertEqual(tm.Client(self.address, token="given").token, "given")
            self.assertIsNone(local_admin_token("https://tm.example.workers.dev", start=nested))
            self.assertIsNone(local_admin_token("http://10.0.0.5:8080", start=nested))
            self.assertEqual(local_admin_token("http://127.0.0.1:9", start=nested), "tma_local")
        self.assertEqual([s["authorization"] for s in Recorder.seen], ["Bearer tma_local"])

    def test_addresses(self) -> None:
        self.assertEqual(normalize_base_url("localhost:8080"), "http://localhost:8080")
        self.assertEqual(normalize_base_url("http://localhost:8080/"), "http://localhost:8080")
        self.assertEqual(normalize_base_url("https://tm.example.workers.dev/v1"), "https://tm.example.workers.dev")
        self.assertEqual(normalize_base_url("tm.example.workers.dev"), "https://tm.example.workers.dev")
        self.assertEqual(normalize_base_url("10.0.0.5:8080"), "http://10.0.0.5:8080")
        with self.assertRaises(ValueError):
            normalize_base_url("ftp://host")

    def test_no_session_is_a_clear_error(self) -> None:
        import TmScheduler.session as session

        with mock.patch.object(session, "_session", None):
            with self.assertRaises(tm.TmError) as caught:
                tm.ListWorkers()
        self.assertIn("NewSession", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
