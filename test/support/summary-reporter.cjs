'use strict';
// Mocha reporter: the spec reporter's output, then the counts written to TEST_SUMMARY_FILE (JSON) so that
// test/run.ts can add them up across steps. Run on its own, it prints the closing `N passed, N failed` line itself.
const fs = require('node:fs');
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      const file = process.env.TEST_SUMMARY_FILE;
      if (file) fs.writeFileSync(file, JSON.stringify({ passed: passes, failed: failures, skipped: pending }));
      else console.log(`${passes} passed, ${failures} failed` + (pending ? `, ${pending} skipped` : ''));
    });
  }
}
module.exports = SummaryReporter;
