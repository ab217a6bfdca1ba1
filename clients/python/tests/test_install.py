"""The package installs offline with pip (no index, no build isolation) and imports from there."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from support import PACKAGE_ROOT


class InstallTest(unittest.TestCase):
    def test_pip_installs_it_offline(self) -> None:
        with tempfile.TemporaryDirectory() as target, tempfile.TemporaryDirectory() as elsewhere:
            pip = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-index",
                 "--disable-pip-version-check", "--target", target, str(PACKAGE_ROOT)],
                capture_output=True, text=True, timeout=120,
            )
            self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
            installed = Path(target) / "TmScheduler"
            self.assertTrue((installed / "py.typed").is_file())
            probe = subprocess.run(
                [sys.executable, "-c", "import TmScheduler as tm; print(tm.__file__); print(tm.NewSession.__doc__ is not None)"],
                cwd=elsewhere, env={"PYTHONPATH": target, "PATH": "/usr/bin:/bin"},
                capture_output=True, text=True, timeout=30,
            )
            self.assertEqual(probe.returncode, 0, probe.stderr)
            self.assertEqual(probe.stdout.split(), [str(installed / "__init__.py"), "True"])
        # Building in the source tree leaves nothing behind.
        self.assertFalse((PACKAGE_ROOT / "build").exists())


if __name__ == "__main__":
    unittest.main()
