// Reads vitest's JSON reports and prints `ci: N passed, M failed`; exits non-zero on any failure.
import { existsSync, readFileSync } from 'node:fs';

// checksFailed: how many checks besides the tests failed (typecheck, the systemd unit, the wasm
// builds, the deploy check). testStatus: the worst exit status of the test runs. The reports: the
// README's `npm test`, then the installed agent's test on other Node versions.
const [checksFailed, testStatus, ...reports] = process.argv.slice(2);
let passed = 0;
let failed = Number(checksFailed) || 0;
for (const report of reports) {
  if (!existsSync(report)) {
    failed += 1;
    console.log(`no test report at ${report}`);
    continue;
  }
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed += json.numPassedTests ?? 0;
  failed += (json.numFailedTests ?? 0) + (json.numFailedTestSuites ?? 0);
  const pending = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  if (pending > 0)
    (console.log(`skipped or todo tests are not allowed in ${report}: ${pending}`),
      (failed += pending));
}
if (Number(testStatus) !== 0 && failed === 0) failed = 1;
if (Number(checksFailed))
  console.log(`${checksFailed} check(s) besides the tests failed (see above)`);
console.log(`ci: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
