// Shared by the client scripts: read the plan (JSON on stdin) written by
// tests/test_conformance.py, run named checks each under a time limit, print one JSON
// object {check: observed} on stdout. A check that throws or hangs is recorded as such,
// never hidden: the Python side asserts on every value.
import { readFileSync } from "node:fs";

export const plan = JSON.parse(readFileSync(0, "utf8"));

export const PROGRESS = `subscription($jobId: ID!) { jobProgress(jobId: $jobId) {
  sequence job { id status } progress { expected pending } } }`;

// A document over the server's token limit (2,000): 700 fields of three tokens each.
export const OVER_TOKEN_LIMIT =
  "subscription { jobProgress(jobId: \"x\") { " + "sequence ".repeat(2100) + "} }";

export function codes(errors) {
  return (errors ?? []).map((e) => e?.extensions?.code ?? null);
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runChecks(checks, { timeoutMs = 8000, cleanup } = {}) {
  const results = {};
  for (const [name, check] of Object.entries(checks)) {
    try {
      results[name] = await withTimeout(check(), timeoutMs, name);
    } catch (error) {
      results[name] = { thrown: String(error?.message ?? error) };
    }
  }
  if (cleanup) {
    try {
      await cleanup();
    } catch {
      // Closing sockets after the checks: nothing to report.
    }
  }
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
}
