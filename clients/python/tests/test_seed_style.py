"""The seed-style functions (tm.NewSession, tm.SubmitJob, tm.Aggregate, ...) against a real stack."""

from __future__ import annotations

import csv
import re
import time
import unittest
import uuid
from collections import defaultdict
from typing import Any, Dict, List

import support  # noqa: F401 - puts clients/python on sys.path
from support import AGENTS, CSV_DIR, PREFIX, REPO_ROOT, S3_ENDPOINT, STORE, URL, Forwarder

import TmScheduler as tm

# The README's snippet, verbatim; the test checks the README still says exactly this.
SNIPPET = '''import TmScheduler as tm

tm.NewSession("localhost:8080")
tm.RegisterWorker("localhost:50051")
tm.RegisterWorker("localhost:50052")
tm.RegisterWorker("localhost:50053")
tm.RegisterObjectStore("s3://test-bucket")
'''


class SnippetTest(unittest.TestCase):
    def test_readme_snippet_runs_verbatim(self) -> None:
        readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
        self.assertTrue("```python\n" + SNIPPET + "```" in readme, "README's Python snippet drifted from this test's")

        # The snippet talks to localhost:8080; forward that port to the test stack for its duration.
        forwarder = Forwarder(8080, URL)
        code = SNIPPET
        if not forwarder.start():  # something else holds 8080: run it against the stack's own port
            code = SNIPPET.replace('"localhost:8080"', repr(URL))
            print(f"\n  (port 8080 is taken; the snippet ran against {URL} instead)", end=" ")
        try:
            with self.assertLogs("TmScheduler", "INFO") as logs:
                exec(compile(code, "README snippet", "exec"), {})
                # Running it a second time is idempotent and says so.
                exec(compile(code, "README snippet", "exec"), {})
            session = tm.CurrentSession()
            workers = {w.address: w for w in tm.ListWorkers()}
            store = tm.RegisterObjectStore("s3://test-bucket")
        finally:
            forwarder.stop()
            tm.NewSession(URL)

        self.assertTrue(any("localhost:50051 is already registered" in line for line in logs.output), logs.output)
        self.assertTrue(any("object store test-bucket" in line for line in logs.output), logs.output)
        self.assertEqual(session.base_url, "http://localhost:8080" if code == SNIPPET else URL)
        for port in (50051, 50052, 50053):
            worker = workers[f"localhost:{port}"]
            # Nothing listens there in the test stack: registered, never connected.
            self.assertEqual(worker.state, "pending")
            self.assertFalse(worker.connected)
            self.assertIsNone(worker.last_heartbeat_age_ms)
        self.assertEqual(sum(1 for w in workers.values() if w.healthy), AGENTS)
        # The store the stack registered (with its loopback endpoint and keys), not a second one.
        self.assertIs(store.created, False)
        self.assertEqual(store.name, "test-bucket")
        self.assertTrue(store.has_credentials)
        if S3_ENDPOINT:
            self.assertEqual(store.endpoint, S3_ENDPOINT)
        again = tm.RegisterWorker("localhost:50051")
        self.assertIs(again.created, False)
        self.assertIsNone(again.join_token)


class CommandJobTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        tm.NewSession(URL)

    def test_command_job_streams_its_logs_while_it_runs(self) -> None:
        job = tm.SubmitJob(
            "echo first-$NAME; sleep 1.5; echo second-$NAME; echo oops >&2",
            workers=AGENTS,
            env={"NAME": "py"},
            name="python-logs",
        )
        self.assertIsInstance(job, tm.Job)
        self.assertEqual(job.kind, "command")
        self.assertEqual(len(job.tasks), AGENTS)

        started = time.monotonic()
        arrivals: List[float] = []
        items: List[Any] = []
        for item in tm.StreamLogs(job.id, include_end=True, timeout=60):
            arrivals.append(time.monotonic() - started)
            items.append(item)
        entries = [i for i in items if isinstance(i, tm.LogEntry)]
        self.assertIsInstance(items[-1], tm.LogEnd)
        self.assertEqual(items[-1].state, "succeeded")
        seqs = [e.seq for e in entries]
        self.assertEqual(seqs, sorted(set(seqs)), "sequence numbers increase")
        stdout = "".join(e.data for e in entries if e.stream == "stdout")
        self.assertEqual(stdout.count("first-py\n"), AGENTS)
        self.assertEqual(stdout.count("second-py\n"), AGENTS)
        self.assertEqual("".join(e.data for e in entries if e.stream == "stderr").count("oops\n"), AGENTS)
        # Streamed, not collected at the end: the first line came well before the stream ended.
        first = next(i for i, e in enumerate(items) if isinstance(e, tm.LogEntry) and "first-py" in e.data)
        self.assertGreater(arrivals[-1] - arrivals[first], 0.8)

        done = tm.WaitJob(job.id, timeout=30)
        self.assertEqual(done.state, "succeeded")
        self.assertEqual(done.counts.succeeded, AGENTS)
        self.assertEqual(len({t.worker_id for t in done.tasks}), AGENTS)
        self.assertEqual({e.task_id for e in entries}, {t.id for t in done.tasks})

        # By task: only that task's output, to the end.
        task = done.tasks[0]
        by_task = list(tm.StreamLogs(task=task.id))
        self.assertTrue(by_task)
        self.assertEqual({e.task_id for e in by_task}, {task.id})
        self.assertEqual("".join(e.data for e in by_task if e.stream == "stdout"), "first-py\nsecond-py\n")
        self.assertEqual(tm.GetTask(task.id).exit_code, 0)

    def test_failed_command_is_returned_with_its_exit_code(self) -> None:
        job = tm.SubmitJob(["sh", "-c", "echo bye; exit 3"], workers=1, retries=0)
        done = tm.WaitJob(job, timeout=30)
        self.assertEqual(done.state, "failed")
        task = tm.GetTask(done.tasks[0].id)
        self.assertEqual(task.exit_code, 3)
        self.assertEqual(task.state, "failed")
        self.assertEqual([a.outcome for a in task.history or []], ["failed"])
        self.assertEqual([a.exit_code for a in task.history or []], [3])

    def test_wait_times_out_then_cancel_and_cancel_again(self) -> None:
        job = tm.SubmitJob("sleep 30", workers=1)
        with self.assertRaises(tm.Timeout) as caught:
            tm.WaitJob(job.id, timeout=0.5)
        self.assertIsInstance(caught.exception, TimeoutError)
        self.assertIn(caught.exception.job.state, ("queued", "running"))

        deadline = time.monotonic() + 20
        while not any(t.job_id == job.id for t in tm.ListRunningTasks()):
            self.assertLess(time.monotonic(), deadline, "the sleep never showed as running")
            time.sleep(0.1)
        running = [t for t in tm.ListRunningTasks() if t.job_id == job.id]
        self.assertEqual(running[0].state, "running")
        self.assertIsNotNone(running[0].worker_id)

        cancelled = tm.CancelJob(job.id)
        self.assertEqual(cancelled.state, "cancelled")
        self.assertEqual(tm.WaitJob(job.id, timeout=10).state, "cancelled")
        with self.assertRaises(tm.Conflict) as conflict:
            tm.CancelJob(job.id)
        self.assertEqual(conflict.exception.status, 409)
        self.assertEqual(conflict.exception.code, "conflict")


def _oracle(min_quantity: int = 0) -> Dict[str, Dict[str, Any]]:
    """GROUP BY region over the local copies of the uploaded CSV files."""
    groups: Dict[str, Dict[str, Any]] = defaultdict(lambda: {"count": 0, "qty": 0, "prices": [], "products": set()})
    for path in sorted(CSV_DIR.glob("*.csv")):
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                if int(row["quantity"]) < min_quantity:
                    continue
                g = groups[row["region"]]
                g["count"] += 1
                g["qty"] += int(row["quantity"])
                g["prices"].append(float(row["price"]))
                g["products"].add(row["product"])
    return groups


class AggregateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        tm.NewSession(URL)
        cls.source = f"s3://{STORE}/{PREFIX}"

    def assert_matches(self, rows: List[Dict[str, Any]], oracle: Dict[str, Dict[str, Any]]) -> None:
        self.assertEqual([r["region"] for r in rows], sorted(oracle))
        for row in rows:
            want = oracle[row["region"]]
            self.assertEqual(row["count(*)"], want["count"])
            self.assertEqual(row["qty"], want["qty"])
            self.assertIsInstance(row["qty"], int)
            self.assertAlmostEqual(row["avg(price)"], sum(want["prices"]) / len(want["prices"]), places=9)

    def test_aggregate_returns_rows_equal_to_the_oracle(self) -> None:
        rows = tm.Aggregate(
            self.source,
            group_by="region",
            aggregates=["count", "sum(quantity) as qty", "avg(price)"],
            order_by="region",
        )
        self.assertIsInstance(rows, list)
        self.assertTrue(rows)
        self.assertIsInstance(rows[0], dict)
        self.assertEqual(list(rows[0]), ["region", "count(*)", "qty", "avg(price)"])
        self.assertEqual(sum(r["count(*)"] for r in rows), sum(g["count"] for g in _oracle().values()))
        self.assertGreater(len(rows), 1)
        self.assert_matches(rows, _oracle())

    def test_aggregate_with_filter_order_and_limit(self) -> None:
        oracle = _oracle(min_quantity=5)
        top = sorted(oracle, key=lambda region: -oracle[region]["qty"])[:2]
        rows = tm.Aggregate(
            STORE,
            prefix=PREFIX,
            format="csv",
            filter=[("quantity", ">=", 5)],
            group_by=["region"],
            aggregates=[("count",), ("sum", "quantity", "qty"), {"op": "count_distinct", "column": "product", "as": "products"}],
            order_by="-qty",
            limit=2,
        )
        self.assertEqual([r["region"] for r in rows], top)
        for row in rows:
            self.assertEqual(row["count(*)"], oracle[row["region"]]["count"])
            self.assertEqual(row["qty"], oracle[row["region"]]["qty"])
            self.assertEqual(row["products"], len(oracle[row["region"]]["products"]))

    def test_arrow_and_pandas_results_or_a_clear_error(self) -> None:
        for form, module in (("arrow", "pyarrow"), ("pandas", "pandas")):
            try:
                __import__(module)
                have = True
            except ImportError:
                have = False
            if have:
                result = tm.Aggregate(self.source, group_by="region", aggregates=["count"], as_=form)
                self.assertEqual(len(result), len(_oracle()))
            else:
                with self.assertRaises(tm.MissingDependency) as caught:
                    tm.Aggregate(self.source, group_by="region", aggregates=["count"], as_=form)
                self.assertIsInstance(caught.exception, ImportError)
                self.assertIn(f"pip install {module}", str(caught.exception))
                self.assertIn("as_='rows'", str(caught.exception))

    def test_failed_aggregation_raises_with_the_servers_reason(self) -> None:
        with self.assertRaises(tm.JobFailed) as caught:
            tm.Aggregate(f"s3://{STORE}/no-such-prefix-{uuid.uuid4().hex}/", format="csv", aggregates=["count"])
        self.assertIn("no input objects", str(caught.exception))
        self.assertEqual(caught.exception.job.state, "failed")
        with self.assertRaises(tm.NotFound):
            tm.Aggregate("s3://bucket-nobody-registered/x/", format="csv")


class SessionErrorsTest(unittest.TestCase):
    def test_unknown_job_is_not_found(self) -> None:
        tm.NewSession(URL)
        missing = str(uuid.uuid4())
        with self.assertRaises(tm.NotFound) as caught:
            tm.GetJob(missing)
        error = caught.exception
        self.assertIsInstance(error, tm.TmError)
        self.assertEqual((error.status, error.code), (404, "not_found"))
        self.assertIn(missing, error.message)
        with self.assertRaises(tm.NotFound):
            list(tm.StreamLogs(missing))
        with self.assertRaises(tm.NotFound):
            tm.GetTask("not-a-uuid")

    def test_malformed_requests_are_bad_requests(self) -> None:
        tm.NewSession(URL)
        with self.assertRaises(tm.BadRequest) as caught:
            tm.SubmitJob({"kind": "teleport"})
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "bad_request"))
        self.assertIn("unknown job kind", caught.exception.message)
        with self.assertRaises(tm.BadRequest) as caught:
            tm.SubmitJob("echo hi", workers=0)
        self.assertTrue(re.search(r"workers", caught.exception.message), caught.exception.message)
        self.assertIsInstance(caught.exception.details["issues"], list)
        with self.assertRaises(tm.BadRequest):
            tm.RegisterWorker("no-port-here")
        # Not JSON at all.
        with self.assertRaises(tm.BadRequest) as caught:
            tm.CurrentSession()._http.json("POST", "/v1/jobs", raw_body=b"{not json")
        self.assertEqual(caught.exception.code, "invalid_json")

    def test_nothing_listening_is_a_connection_error_with_a_hint(self) -> None:
        tm.NewSession(URL)
        dead = f"127.0.0.1:{support.dead_port()}"
        with self.assertRaises(tm.ConnectionError) as caught:
            tm.NewSession(dead)
        self.assertIsInstance(caught.exception, ConnectionError)  # the builtin, too
        self.assertIn("npm start", str(caught.exception))
        self.assertIn(dead, str(caught.exception))
        self.assertIsNone(caught.exception.status)
        # A failed NewSession leaves the previous session in place.
        self.assertEqual(tm.CurrentSession().base_url, URL)

    def test_registering_other_settings_under_a_taken_name_conflicts(self) -> None:
        tm.NewSession(URL)
        with self.assertRaises(tm.Conflict) as caught:
            tm.RegisterObjectStore("s3://test-bucket", endpoint="http://127.0.0.1:1")
        self.assertIn("already exists", caught.exception.message)


if __name__ == "__main__":
    unittest.main()
