// graphql-sse's client in its "distinct connections" mode: every operation its own
// text/event-stream request.
import { createClient } from "graphql-sse";
import { plan, PROGRESS, codes, runChecks } from "./harness.mjs";

const client = createClient({ url: plan.http, singleConnection: false, retryAttempts: 0 });

function run(payload, { take } = {}) {
  return new Promise((resolve) => {
    const results = [];
    let dispose = () => {};
    dispose = client.subscribe(payload, {
      next: (value) => {
        results.push(value);
        if (take !== undefined && results.length >= take) {
          dispose();
          resolve({ results });
        }
      },
      error: (error) => resolve({ results, error: String(error?.message ?? error) }),
      complete: () => resolve({ results, completed: true }),
    });
  });
}

await runChecks(
  {
    subscription: async () => {
      const { results } = await run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      return { firstJobId: results[0]?.data?.jobProgress?.job?.id ?? null };
    },
    query: async () => {
      const r = await run({ query: "{ questions { id } }" });
      return { questions: r.results[0]?.data?.questions?.length ?? null, completed: !!r.completed };
    },
    syntaxError: async () => {
      const r = await run({ query: "subscription { jobProgress(jobId: " });
      return { codes: codes(r.results[0]?.errors), error: r.error ?? null };
    },
  },
  { cleanup: () => client.dispose() },
);
