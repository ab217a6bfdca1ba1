"""``Client.query(sql)`` without a stack: a loopback server stands in for the API, recording what
is sent (``{"kind": "aggregate", "sql": ...}`` and the job's own fields) and answering a finished
job and its result, or the 400 a refusal is.

Needs no stack: ``python3 -m unittest discover -s clients/python/tests -p test_query.py``.
Against the real stack: query_e2e.py, run by test/e2e/python-query.test.ts.
"""

from __future__ import annotations

import json
import sys
import unittest
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import TmScheduler as tm  # noqa: E402
from stand_in import JsonHandler, StandInServer  # noqa: E402

SQL = "SELECT region, count(*) FROM 's3://test-bucket/sales/' GROUP BY region ORDER BY 1"
JOB = {
    "id": "job-1",
    "name": None,
    "kind": "aggregate",
    "state": "succeeded",
    "spec": {},
    "error": None,
    "counts": {"queued": 0, "running": 0, "succeeded": 2, "failed": 0, "cancelled": 0},
    "attempts": {"succeeded": 2},
    "createdAt": "2026-01-01T00:00:00.000Z",
    "startedAt": None,
    "finishedAt": None,
    "removeAfter": None,
    "tasks": [],
}
PAGE = {
    "columns": [{"name": "region", "type": "Utf8"}, {"name": "count_star()", "type": "Int64"}],
    "rows": [{"region": "eu", "count_star()": 3}, {"region": "us", "count_star()": 5}],
    "total": 2,
    "offset": 0,
    "next": None,
}


class _Api:
    """POST /v1/jobs, GET /v1/jobs/job-1 and its result; a queued ``refusal`` answers the POST with 400."""

    def __init__(self) -> None:
        self.posts: List[Dict[str, Any]] = []
        self.refusal: Any = None
        owner = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = urllib.parse.urlsplit(self.path).path
                self._reply(200, PAGE if path.endswith("/result") else JOB)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.posts.append(body)
                if owner.refusal is not None:
                    self._reply(400, {"error": {"code": "bad_request", "message": owner.refusal, "details": {"clause": "WHERE"}}})
                else:
                    self._reply(202, {**JOB, "state": "queued"})

        self._server = StandInServer(Handler)
        self.address = self._server.address

    def stop(self) -> None:
        self._server.stop()


class QueryTest(unittest.TestCase):
    def setUp(self) -> None:
        self.api = _Api()
        self.addCleanup(self.api.stop)
        self.client = tm.Client(self.api.address, token="t")

    def test_sends_the_sql_as_an_aggregate_job_and_returns_its_rows(self) -> None:
        rows = self.client.query(SQL)
        self.assertEqual(self.api.posts, [{"kind": "aggregate", "sql": SQL}])
        self.assertEqual(rows, PAGE["rows"])

    def test_sends_the_jobs_own_fields_beside_it(self) -> None:
        self.client.query(SQL, name="by region", partitions=4, output={"store": "out", "prefix": "q"}, job_timeout_seconds=60)
        self.assertEqual(
            self.api.posts,
            [{"kind": "aggregate", "sql": SQL, "name": "by region", "partitions": 4, "output": {"store": "out", "prefix": "q"}, "jobTimeoutSeconds": 60}],
        )

    def test_a_refusal_is_bad_request_with_the_servers_message(self) -> None:
        self.api.refusal = "WHERE: OR is not supported; WHERE takes conditions joined by AND"
        with self.assertRaises(tm.BadRequest) as caught:
            self.client.query("SELECT count(*) FROM 's3://test-bucket/sales/' WHERE a = 1 OR b = 2")
        self.assertIn("WHERE: OR is not supported", str(caught.exception))
        self.assertEqual(caught.exception.status, 400)

    def test_an_unknown_result_form_is_refused_before_sending(self) -> None:
        with self.assertRaises(ValueError):
            self.client.query(SQL, as_="xml")
        self.assertEqual(self.api.posts, [])


if __name__ == "__main__":
    unittest.main()
