// The little test harness the page tests share: named checks printed as `ok - …` / `FAIL - …`,
// counted for the summary line and the exit code.

export function log(line) {
  process.stdout.write(`${line}\n`);
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Checks run so far; `failures` also counts errors outside any check. */
export const tally = { passed: 0, failures: 0 };

/** Runs one named check; a throw fails it and the run goes on. */
export async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    tally.passed += 1;
    log(`ok - ${name} (${Date.now() - t0} ms)`);
    return true;
  } catch (e) {
    tally.failures += 1;
    log(`FAIL - ${name}: ${(e && e.message) || e}`);
    return false;
  }
}
