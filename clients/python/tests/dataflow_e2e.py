"""Dataflow jobs from Python against a real stack with real agents: a diamond DAG through
``submit_dataflow``, another through a TOML job file, a failed stage let through, and the API's 400s.

Not named ``test_*``: python.test.ts's discovery leaves it to test/e2e/python-dataflow.test.ts,
which starts the stack and runs ``python3 -m unittest discover -s clients/python/tests -p
dataflow_e2e.py`` with ``TM_TEST_URL`` and ``TM_TOKEN`` set.
"""

from __future__ import annotations

import os
import sys
import tempfile
import unittest
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import TmScheduler as tm  # noqa: E402

URL = os.environ.get("TM_TEST_URL") or ""
if not URL:
    raise RuntimeError("TM_TEST_URL is not set: run this through `npx vitest run test/e2e/python-dataflow.test.ts`")

#: The same diamond as a job file: a source, two stages reading it, a join of theirs.
DIAMOND_TOML = '''name = "py-toml-diamond"
retries = 1
retryBackoff = { initialSeconds = 0.1 }

[[stages]]
name = "source"
kind = "command"
command = ["sh", "-c", "echo $WORD"]
env = { WORD = "toml" }

[[stages]]
name = "upper"
kind = "command"
command = 'echo "$TM_INPUT_source" | tr a-z A-Z'
dependsOn = ["source"]

[[stages]]
name = "length"
kind = "command"
command = 'printf %s "$TM_INPUT_source" | wc -c'
dependsOn = ["source"]

[[stages]]
name = "join"
kind = "command"
command = 'echo "$TM_INPUT_upper:$TM_INPUT_length"'
dependsOn = ["upper", "length"]
'''


def _has_toml() -> bool:
    for module in ("tomllib", "tomli"):
        try:
            __import__(module)
            return True
        except ImportError:
            pass
    return False


class DataflowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client = tm.Client(URL)

    def assert_all_succeeded(self, job: tm.Job) -> None:
        self.assertEqual(job.state, "succeeded", [(s.name, s.state, s.error) for s in job.stages])
        for stage in job.stages:
            self.assertEqual(stage.state, "succeeded", stage)
            self.assertEqual(stage.counts, tm.TaskCounts(succeeded=stage.parallelism), stage)

    def test_a_diamond_runs_each_stage_after_its_upstreams(self) -> None:
        job = self.client.submit_dataflow(
            [
                {"name": "split", "command": 'echo "part-$TM_INSTANCE"', "parallelism": 3},
                {"name": "left", "command": 'echo "$TM_INPUT_split" | wc -l', "depends_on": "split"},
                {
                    "name": "right",
                    "kind": "command",
                    "command": ["sh", "-c", 'tr a-z A-Z < "$TM_INPUTS/split/1"'],
                    "depends_on": ["split"],
                    "timeout_seconds": 30,
                },
                {"name": "join", "command": 'echo "$TM_INPUT_left/$TM_INPUT_right"', "depends_on": ["left", "right"]},
            ],
            name="py-diamond",
            retries=1,
            retry_backoff={"initial_seconds": 0.1},
            job_timeout_seconds=120,
        )
        self.assertEqual(job.kind, "dataflow")
        self.assertEqual([s.name for s in job.stages], ["split", "left", "right", "join"])
        done = self.client.wait_job(job, timeout=90)
        self.assert_all_succeeded(done)
        # The policy arrived camelCased: the API refuses a field it does not know with a 400.
        self.assertEqual(done.name, "py-diamond")
        self.assertEqual(done.stage("join").depends_on, ["left", "right"])
        self.assertEqual(done.stage("right").kind, "command")
        split = done.stage("split")
        assert split.finished_at is not None
        for name in ("left", "right"):
            started = done.stage(name).started_at
            assert started is not None
            self.assertGreaterEqual(started, split.finished_at)
        self.assertEqual([(t.stage, t.instance, t.result) for t in done.stage_tasks("split")],
                         [("split", 0, "part-0"), ("split", 1, "part-1"), ("split", 2, "part-2")])
        self.assertEqual(done.stage_tasks("join")[0].result, "3/PART-1")

    def test_a_toml_job_file_through_the_seed_style_function(self) -> None:
        tm.NewSession(URL)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / ("job.toml" if _has_toml() else "job.json")
            if not _has_toml():  # Python 3.9/3.10 without tomli: said so, and JSON instead
                (Path(folder) / "job.toml").write_text(DIAMOND_TOML, encoding="utf-8")
                with self.assertRaises(tm.MissingDependency):
                    tm.SubmitJobFile(Path(folder) / "job.toml")
                import json

                path.write_text(json.dumps(_toml_as_dict()), encoding="utf-8")
            else:
                path.write_text(DIAMOND_TOML, encoding="utf-8")
            job = tm.SubmitJobFile(path, wait=60)
        done = job if job.done else tm.WaitJob(job, timeout=90)
        self.assert_all_succeeded(done)
        self.assertEqual(done.name, "py-toml-diamond")
        self.assertEqual(done.stage_tasks("join")[0].result, "TOML:4")

    def test_a_stage_that_may_fail_and_one_that_fails(self) -> None:
        flaky = self.client.submit_dataflow(
            [
                {"name": "flaky", "command": "exit 1", "continue_on_failure": True},
                {"name": "then", "command": 'echo "got [$TM_INPUT_flaky]"', "depends_on": ["flaky"]},
            ],
            wait=60,
        )
        flaky = flaky if flaky.done else self.client.wait_job(flaky, timeout=90)
        self.assertEqual(flaky.state, "succeeded")
        self.assertEqual((flaky.stage("flaky").state, flaky.stage("flaky").continue_on_failure), ("failed", True))
        self.assertEqual(flaky.stage_tasks("then")[0].result, "got []")

        failed = self.client.submit_dataflow(
            [
                {"name": "ok", "kind": "echo", "payload": 1},
                {"name": "bad", "command": "echo no >&2; exit 3", "depends_on": ["ok"]},
                {"name": "after", "command": "echo never", "depends_on": ["bad"]},
            ],
        )
        failed = self.client.wait_job(failed, timeout=90)
        self.assertEqual(failed.state, "failed")
        self.assertIn('stage "bad" failed', failed.error or "")
        self.assertEqual([s.state for s in failed.stages], ["succeeded", "failed", "cancelled"])
        self.assertIn('stage "bad" failed', failed.stage("after").error or "")

    def test_the_apis_refusals_come_back_as_bad_requests(self) -> None:
        with self.assertRaises(tm.BadRequest) as cycle:
            self.client.submit_dataflow([
                {"name": "a", "kind": "echo", "depends_on": ["c"]},
                {"name": "b", "kind": "echo", "depends_on": ["a"]},
                {"name": "c", "kind": "echo", "depends_on": ["b"]},
            ])
        self.assertEqual(cycle.exception.status, 400)
        self.assertIn("a → c → b → a", cycle.exception.message)
        with self.assertRaises(tm.BadRequest) as unknown:
            self.client.submit_dataflow([{"name": "a", "kind": "echo", "depends_on": ["nope"]}])
        self.assertIn("nope", unknown.exception.message)
        # A job file is the request as the API names it: a snake_case field is refused, file named.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "job.json"
            path.write_text('{"stages": [{"name": "a", "kind": "echo", "depends_on": []}]}', encoding="utf-8")
            with self.assertRaises(tm.BadRequest) as snake:
                self.client.submit_job_file(path)
        self.assertTrue(snake.exception.message.startswith(f"{path}: "), snake.exception.message)
        self.assertIn("depends_on", snake.exception.message)


def _toml_as_dict() -> dict:
    """DIAMOND_TOML written out by hand, for a Python that cannot read TOML."""
    stage = lambda name, command, deps=None, **more: {  # noqa: E731
        "name": name, "kind": "command", "command": command, **({"dependsOn": deps} if deps else {}), **more
    }
    return {
        "name": "py-toml-diamond",
        "retries": 1,
        "retryBackoff": {"initialSeconds": 0.1},
        "stages": [
            stage("source", ["sh", "-c", "echo $WORD"], env={"WORD": "toml"}),
            stage("upper", 'echo "$TM_INPUT_source" | tr a-z A-Z', ["source"]),
            stage("length", 'printf %s "$TM_INPUT_source" | wc -c', ["source"]),
            stage("join", 'echo "$TM_INPUT_upper:$TM_INPUT_length"', ["upper", "length"]),
        ],
    }


if __name__ == "__main__":
    unittest.main()
