"""``Client.query(sql)`` against a real stack with real agents: a group-by over CSV objects equal to
the same query worked out here from the local copies of the files, and a refusal as BadRequest.

Not named ``test_*``: python.test.ts's discovery leaves it to test/e2e/python-query.test.ts, which
starts the stack, uploads the files and runs ``python3 -m unittest discover -s clients/python/tests
-p query_e2e.py`` with ``TM_TEST_URL``, ``TM_TOKEN``, ``TM_TEST_DATA`` (the files' s3:// folder)
and ``TM_TEST_CSV_DIR`` (their local copies) set.
"""

from __future__ import annotations

import csv
import os
import sys
import unittest
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

import TmScheduler as tm  # noqa: E402

URL = os.environ.get("TM_TEST_URL") or ""
if not URL:
    raise RuntimeError("TM_TEST_URL is not set: run this through `npx vitest run test/e2e/python-query.test.ts`")
DATA = os.environ["TM_TEST_DATA"]
CSV_DIR = Path(os.environ["TM_TEST_CSV_DIR"])


def _oracle(min_n: int) -> Dict[str, Dict[str, Any]]:
    """count(*), sum(n) and avg(v) by category of the rows with n >= min_n and a category."""
    groups: Dict[str, Dict[str, Any]] = defaultdict(lambda: {"count": 0, "total": 0, "vs": []})
    for path in sorted(CSV_DIR.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if not row["category"] or int(row["n"]) < min_n:
                    continue
                group = groups[row["category"]]
                group["count"] += 1
                group["total"] += int(row["n"])
                if row["v"]:
                    group["vs"].append(float(row["v"]))
    return groups


class QueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client = tm.Client(URL)

    def test_query_equals_the_oracle(self) -> None:
        rows = self.client.query(
            "SELECT category, count(*), sum(n) AS total, avg(v) "
            f"FROM read_csv('{DATA}*.csv') "
            "WHERE n >= 500 AND category IS NOT NULL "
            "GROUP BY category ORDER BY total DESC, category LIMIT 3"
        )
        oracle = _oracle(500)
        top = sorted(oracle, key=lambda c: (-oracle[c]["total"], c))[:3]
        self.assertEqual([r["category"] for r in rows], top)
        for row in rows:
            want = oracle[row["category"]]
            self.assertEqual(row["count_star()"], want["count"])
            self.assertEqual(row["total"], want["total"])
            self.assertAlmostEqual(row["avg(v)"], sum(want["vs"]) / len(want["vs"]), places=6)

    def test_sql_the_job_cannot_run_is_bad_request(self) -> None:
        with self.assertRaises(tm.BadRequest) as caught:
            self.client.query(f"SELECT count(*) FROM '{DATA}' WHERE n = 1 OR n = 2")
        self.assertIn("WHERE: OR is not supported", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
