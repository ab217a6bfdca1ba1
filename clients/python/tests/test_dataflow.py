"""Dataflow jobs and job files without a stack: stages and policy converted to the API's names,
TOML/JSON/YAML files read (their errors naming file and line), and a loopback server standing in
for ``POST /v1/jobs`` to record what is sent and answer a view or a 400.

Needs no stack: ``python3 -m unittest discover -s clients/python/tests -p test_dataflow.py``.
Against the real stack: dataflow_e2e.py, run by test/e2e/python-dataflow.test.ts.
"""

from __future__ import annotations

import json
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Any, Dict, List
from unittest import mock

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import TmScheduler as tm  # noqa: E402
from stand_in import JsonHandler, StandInServer  # noqa: E402
from TmScheduler._dataflow import stage_spec  # noqa: E402
from TmScheduler._job_file import read_job_file  # noqa: E402

DIAMOND_TOML = '''name = "diamond"
retries = 1
retryBackoff = { initialSeconds = 0.5 }

[[stages]]
name = "split"
kind = "command"
command = "echo part-$TM_INSTANCE"
parallelism = 2

[[stages]]
name = "join"
kind = "command"
command = ["sh", "-c", "echo \\"$TM_INPUT_split\\""]
dependsOn = ["split"]
env = { GREETING = "hi" }
'''


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _stage_view(stage: Dict[str, Any]) -> Dict[str, Any]:
    counts = {"queued": 0, "running": 0, "succeeded": stage.get("parallelism", 1), "failed": 0, "cancelled": 0}
    return {
        "name": stage["name"],
        "kind": stage["kind"],
        "state": "succeeded",
        "parallelism": stage.get("parallelism", 1),
        "dependsOn": stage.get("dependsOn", []),
        "continueOnFailure": stage.get("continueOnFailure", False),
        "counts": counts,
        "error": None,
        "startedAt": "2026-01-01T00:00:00.000Z",
        "finishedAt": "2026-01-01T00:00:01.5Z",
    }


def _task_view(job_id: str, index: int, stage: str, instance: int) -> Dict[str, Any]:
    return {
        "id": f"task-{index}",
        "jobId": job_id,
        "index": index,
        "kind": "command",
        "state": "succeeded",
        "attempt": 1,
        "result": f"{stage}/{instance}",
        "stage": {"name": stage, "instance": instance},
    }


class _JobsServer:
    """``POST /v1/jobs``: records the body and query, and answers a succeeded view of the job
    (each instance's result ``stage/instance``), or the 400 queued in ``refusal``."""

    def __init__(self) -> None:
        self.posts: List[Dict[str, Any]] = []
        self.refusal: Any = None
        owner = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802
                self._reply(200, {"ok": True, "connectedWorkers": 0})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.posts.append({"path": self.path, "body": body})
                if owner.refusal is not None:
                    self._reply(400, {"error": {"code": "bad_request", "message": owner.refusal, "details": [1]}})
                    return
                stages = body.get("stages") or []
                instances = [(s["name"], i) for s in stages for i in range(s.get("parallelism", 1))]
                self._reply(200, {
                    "id": "job-1",
                    "name": body.get("name"),
                    "kind": body["kind"],
                    "state": "succeeded",
                    "spec": body,
                    "error": None,
                    "counts": {"queued": 0, "running": 0, "succeeded": len(instances), "failed": 0, "cancelled": 0},
                    "attempts": {"succeeded": len(instances)},
                    "stages": [_stage_view(s) for s in stages],
                    "createdAt": "2026-01-01T00:00:00.000Z",
                    "startedAt": None,
                    "finishedAt": None,
                    "removeAfter": None,
                    # Newest instance first, so the test sees stage_tasks order them.
                    "tasks": [_task_view("job-1", n, s, i) for n, (s, i) in reversed(list(enumerate(instances)))],
                })

        self._server = StandInServer(Handler)
        self.address = self._server.address

    def stop(self) -> None:
        self._server.stop()


class StageSpecTest(unittest.TestCase):
    def test_snake_case_fields_are_camelcased_and_env_left_alone(self) -> None:
        spec = stage_spec({
            "name": "join",
            "command": ("sh", "-c", "true"),
            "depends_on": "split",
            "continue_on_failure": True,
            "timeout_seconds": 5,
            "env": {"timeout_seconds": "x", "depends_on": "y"},
        })
        self.assertEqual(spec, {
            "name": "join",
            "kind": "command",
            "command": ["sh", "-c", "true"],
            "dependsOn": ["split"],
            "continueOnFailure": True,
            "timeoutSeconds": 5,
            "env": {"timeout_seconds": "x", "depends_on": "y"},
        })

    def test_camelcase_and_echo_stages_pass_as_given(self) -> None:
        given = {"name": "e", "kind": "echo", "payload": {"depends_on": 1}, "dependsOn": ("a", "b"), "parallelism": 3}
        self.assertEqual(stage_spec(given), {**given, "dependsOn": ["a", "b"]})
        # No command, no kind: left for the API to name, not guessed.
        self.assertNotIn("kind", stage_spec({"name": "x"}))

    def test_a_field_given_twice_or_a_stage_not_a_dict_is_refused(self) -> None:
        with self.assertRaises(ValueError) as caught:
            stage_spec({"name": "a", "depends_on": ["b"], "dependsOn": ["c"]})
        self.assertIn("dependsOn twice", str(caught.exception))
        with self.assertRaises(TypeError):
            stage_spec("echo hi")  # type: ignore[arg-type]


class SubmitDataflowTest(unittest.TestCase):
    def setUp(self) -> None:
        self.api = _JobsServer()
        self.client = tm.Client(self.api.address, token="t")

    def tearDown(self) -> None:
        self.api.stop()

    def test_posts_the_dag_with_its_policy_and_reads_the_stages_back(self) -> None:
        job = self.client.submit_dataflow(
            [
                {"name": "split", "command": "echo part-$TM_INSTANCE", "parallelism": 2},
                {"name": "left", "kind": "echo", "payload": 1, "depends_on": ["split"]},
                {"name": "right", "command": ["cat", "x"], "depends_on": ["split"]},
                {"name": "join", "command": 'echo "$TM_INPUT_left"', "depends_on": ["left", "right"]},
            ],
            name="diamond",
            wait=30,
            retries=2,
            retry_backoff={"initial_seconds": 0.5, "max_seconds": 2},
            job_timeout_seconds=60,
            retention_seconds=3600,
        )
        post = self.api.posts[-1]
        self.assertEqual(post["path"], "/v1/jobs?wait=30")
        body = post["body"]
        self.assertEqual(
            {k: v for k, v in body.items() if k != "stages"},
            {
                "kind": "dataflow",
                "name": "diamond",
                "retries": 2,
                "retryBackoff": {"initialSeconds": 0.5, "maxSeconds": 2},
                "jobTimeoutSeconds": 60,
                "retentionSeconds": 3600,
            },
        )
        self.assertEqual([s["kind"] for s in body["stages"]], ["command", "echo", "command", "command"])
        self.assertEqual(body["stages"][3]["dependsOn"], ["left", "right"])

        self.assertIsInstance(job, tm.Job)
        self.assertEqual((job.kind, job.state), ("dataflow", "succeeded"))
        self.assertEqual([s.name for s in job.stages], ["split", "left", "right", "join"])
        self.assertTrue(all(isinstance(s, tm.Stage) and s.done for s in job.stages))
        join = job.stage("join")
        self.assertEqual((join.depends_on, join.parallelism, join.continue_on_failure), (["left", "right"], 1, False))
        self.assertEqual(join.counts, tm.TaskCounts(succeeded=1))
        assert join.started_at is not None and join.finished_at is not None
        self.assertEqual((join.finished_at - join.started_at).total_seconds(), 1.5)
        self.assertEqual([(t.stage, t.instance, t.result) for t in job.stage_tasks("split")],
                         [("split", 0, "split/0"), ("split", 1, "split/1")])
        with self.assertRaises(KeyError) as caught:
            job.stage("nope")
        self.assertIn("'split', 'left', 'right', 'join'", str(caught.exception))

    def test_a_stream_stage_reads_its_edges_wait_and_restarts(self) -> None:
        stage = tm.Stage.from_api({
            "name": "sink", "kind": "command", "state": "running", "parallelism": 2,
            "dependsOn": [], "continueOnFailure": False, "counts": {"running": 2},
            "error": None, "streamFrom": ["relay"],
            "waitingFor": "3 free slots at once for its stream group's instances; 1 free now",
            "restarts": 2, "startedAt": None, "finishedAt": None,
        })
        self.assertEqual((stage.stream_from, stage.restarts), (["relay"], 2))
        self.assertIn("3 free slots at once", stage.waiting_for or "")
        self.assertEqual(tm.Stage.from_api({"name": "a", "state": "waiting"}).stream_from, [])

    def test_an_aggregate_stage_camel_cases_its_fields_and_a_pipeline_keeps_its_data(self) -> None:
        spec = stage_spec({"name": "t", "kind": "aggregate", "group_by": ["r"], "order_by": [{"column": "r"}],
                           "source": {"store": "s", "format": "csv"}, "aggregates": [{"op": "count"}]})
        self.assertEqual((spec["groupBy"], spec["orderBy"]), (["r"], [{"column": "r"}]))
        data = stage_spec({"name": "p", "kind": "pipeline", "data": {"file_name": "x"}})["data"]
        self.assertEqual(data, {"file_name": "x"})

    def test_an_aggregate_stage_names_the_job_it_launched(self) -> None:
        stage = tm.Stage.from_api({"name": "totals", "kind": "aggregate", "state": "running",
                                   "job": "0193-child"})
        self.assertEqual((stage.kind, stage.job), ("aggregate", "0193-child"))
        self.assertIsNone(tm.Stage.from_api({"name": "a", "state": "waiting"}).job)

    def test_an_api_refusal_is_a_bad_request_with_its_message(self) -> None:
        self.api.refusal = 'stages: a cycle: a → b → a'
        with self.assertRaises(tm.BadRequest) as caught:
            self.client.submit_dataflow([{"name": "a", "kind": "echo", "depends_on": "b"},
                                         {"name": "b", "kind": "echo", "depends_on": "a"}])
        self.assertEqual((caught.exception.status, caught.exception.message), (400, "stages: a cycle: a → b → a"))
        self.assertEqual(caught.exception.details, [1])

    def test_a_path_where_stages_belong_points_at_submit_job_file(self) -> None:
        with self.assertRaises(TypeError) as caught:
            self.client.submit_dataflow("job.toml")  # type: ignore[arg-type]
        self.assertIn("submit_job_file", str(caught.exception))
        self.assertEqual(self.api.posts, [])

    def test_seed_style_functions_use_the_session(self) -> None:
        tm.NewSession(self.api.address, token="t")
        job = tm.SubmitDataflow([{"name": "only", "kind": "echo"}], name="seed", timeout_seconds=9)
        self.assertEqual(job.stage("only").kind, "echo")
        self.assertEqual(self.api.posts[-1]["path"], "/v1/jobs")
        self.assertEqual(self.api.posts[-1]["body"],
                         {"kind": "dataflow", "name": "seed", "timeoutSeconds": 9, "stages": [{"name": "only", "kind": "echo"}]})
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "job.json"
            path.write_text(json.dumps({"kind": "echo", "count": 2}), encoding="utf-8")
            self.assertEqual(tm.SubmitJobFile(path, wait=5).kind, "echo")
        self.assertEqual(self.api.posts[-1], {"path": "/v1/jobs?wait=5", "body": {"kind": "echo", "count": 2}})


class JobFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self._folder = tempfile.TemporaryDirectory()
        self.folder = Path(self._folder.name)

    def tearDown(self) -> None:
        self._folder.cleanup()

    def write(self, name: str, text: str) -> Path:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return path

    def test_toml_is_the_request_with_kind_dataflow_by_default(self) -> None:
        path = self.write("job.toml", DIAMOND_TOML)
        if not (_has("tomllib") or _has("tomli")):  # Python 3.9/3.10 without tomli
            with self.assertRaises(tm.MissingDependency) as missing:
                read_job_file(path)
            self.assertIn("tomli", str(missing.exception))
            return
        spec = read_job_file(path)
        self.assertEqual(spec["kind"], "dataflow")
        self.assertEqual((spec["name"], spec["retries"], spec["retryBackoff"]), ("diamond", 1, {"initialSeconds": 0.5}))
        self.assertEqual([s["name"] for s in spec["stages"]], ["split", "join"])
        self.assertEqual(spec["stages"][1]["command"], ["sh", "-c", 'echo "$TM_INPUT_split"'])
        self.assertEqual(spec["stages"][1]["env"], {"GREETING": "hi"})

    def test_json_and_a_kind_of_its_own(self) -> None:
        spec = read_job_file(str(self.write("job.json", '{"kind": "command", "command": "true"}')))
        self.assertEqual(spec, {"kind": "command", "command": "true"})

    def test_yaml_with_pyyaml_or_a_clear_error_without(self) -> None:
        path = self.write("job.yml", "name: y\nstages:\n  - name: a\n    kind: echo\n")
        if _has("yaml"):
            self.assertEqual(read_job_file(path), {"kind": "dataflow", "name": "y", "stages": [{"name": "a", "kind": "echo"}]})
            bad = self.write("bad.yaml", "name: y\nstages:\n  - name: [a\n")
            with self.assertRaises(tm.JobFileError) as caught:
                read_job_file(bad)
            self.assertTrue(caught.exception.message.startswith(f"{bad}:4:1: YAML syntax error: "), caught.exception.message)
            self.assertIsInstance(caught.exception.line, int)
        with mock.patch.dict(sys.modules, {"yaml": None}):  # as if PyYAML were not installed
            with self.assertRaises(tm.MissingDependency) as missing:
                read_job_file(path)
        self.assertIn("PyYAML", str(missing.exception))
        self.assertIn(str(path), str(missing.exception))

    def test_syntax_errors_name_the_file_and_line(self) -> None:
        bad_json = self.write("bad.json", '{\n  "name": "x",\n  "stages": [,]\n}\n')
        with self.assertRaises(tm.JobFileError) as caught:
            read_job_file(bad_json)
        self.assertEqual((caught.exception.path, caught.exception.line), (str(bad_json), 3))
        self.assertTrue(caught.exception.message.startswith(f"{bad_json}:3:14: JSON syntax error: "), caught.exception.message)
        self.assertIsInstance(caught.exception, ValueError)
        if _has("tomllib") or _has("tomli"):
            bad_toml = self.write("bad.toml", 'name = "x"\n\n[[stages]]\nname = split\n')
            with self.assertRaises(tm.JobFileError) as caught:
                read_job_file(bad_toml)
            self.assertEqual(caught.exception.line, 4)
            self.assertEqual(caught.exception.message, f"{bad_toml}:4:8: TOML syntax error: Invalid value")
            self.assertNotIn("(at line", caught.exception.message)

    def test_files_that_are_not_a_table_of_fields(self) -> None:
        cases = {
            "list.json": ("[1, 2]", "not a list"),
            "empty.json": ("null", "empty"),
            "job.txt": ("name = 'x'", "name it .toml, .json, .yaml or .yml"),
            "latin.json": ("", "not UTF-8"),
        }
        for name, (text, expected) in cases.items():
            path = self.write(name, text)
            if name == "latin.json":
                path.write_bytes(b'{"name": "caf\xe9"}')
            with self.subTest(name), self.assertRaises(tm.JobFileError) as caught:
                read_job_file(path)
            self.assertIn(expected, caught.exception.message)
            self.assertTrue(caught.exception.message.startswith(str(path)))
        with self.assertRaises(FileNotFoundError):
            read_job_file(self.folder / "missing.json")


class SubmitJobFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.api = _JobsServer()
        self.client = tm.Client(self.api.address, token="t")
        self._folder = tempfile.TemporaryDirectory()
        self.path = Path(self._folder.name) / "job.json"
        self.path.write_text(json.dumps({"name": "f", "stages": [{"name": "a", "kind": "echo"}]}), encoding="utf-8")

    def tearDown(self) -> None:
        self.api.stop()
        self._folder.cleanup()

    def test_posts_the_file_with_overrides(self) -> None:
        job = self.client.submit_job_file(self.path, wait=10, name="nightly", timeout_seconds=5)
        self.assertEqual(self.api.posts[-1]["body"], {
            "kind": "dataflow", "name": "nightly", "timeoutSeconds": 5, "stages": [{"name": "a", "kind": "echo"}],
        })
        self.assertEqual(job.stage("a").state, "succeeded")

    def test_a_refusal_names_the_file(self) -> None:
        self.api.refusal = 'stages.0: Unrecognized key: "depends_on"'
        with self.assertRaises(tm.BadRequest) as caught:
            self.client.submit_job_file(str(self.path))
        self.assertEqual(caught.exception.message, f'{self.path}: stages.0: Unrecognized key: "depends_on"')
        self.assertEqual((caught.exception.status, caught.exception.code, caught.exception.details), (400, "bad_request", [1]))


if __name__ == "__main__":
    unittest.main()
