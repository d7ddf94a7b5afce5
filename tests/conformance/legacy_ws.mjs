// The legacy protocol's own client (subscriptions-transport-ws), one socket for every check.
import pkg from "subscriptions-transport-ws";
import WebSocket from "ws";
import { plan, PROGRESS, OVER_TOKEN_LIMIT, codes, runChecks } from "./harness.mjs";

const { SubscriptionClient } = pkg;
const client = new SubscriptionClient(
  plan.ws,
  { reconnect: false, lazy: false, connectionParams: plan.connectionParams ?? {} },
  WebSocket,
);

function run(request, { take } = {}) {
  return new Promise((resolve) => {
    const results = [];
    const subscription = client.request(request).subscribe({
      next: (value) => {
        results.push(value);
        if (take !== undefined && results.length >= take) {
          subscription.unsubscribe();
          resolve({ results });
        }
      },
      error: (error) => {
        const errors = Array.isArray(error) ? error : [error];
        resolve({ results, errorCodes: codes(errors) });
      },
      complete: () => resolve({ results, completed: true }),
    });
  });
}

await runChecks(
  {
    query: async () => {
      const r = await run({ query: "{ questions { id } }" });
      return { questions: r.results[0]?.data?.questions?.length ?? null, errors: codes(r.results[0]?.errors), completed: !!r.completed };
    },
    mutation: async () => {
      const r = await run({ query: plan.submit, variables: { spec: plan.specs[1] } });
      return { expected: r.results[0]?.data?.submitBiasJob?.job?.progress?.expected ?? null, errors: codes(r.results[0]?.errors) };
    },
    subscription: async () => {
      const { results } = await run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      return { firstJobId: results[0].data.jobProgress.job.id };
    },
    multiplexing: async () => {
      const good1 = run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      const syntax = run({ query: "subscription { jobProgress(jobId: " });
      const tokens = run({ query: OVER_TOKEN_LIMIT });
      const invalid = run({ query: "subscription { noSuchField }" });
      const good2 = run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      const [a, s, t, v, b] = await Promise.all([good1, syntax, tokens, invalid, good2]);
      return {
        syntaxError: s.errorCodes ?? null,
        tokenLimit: t.errorCodes ?? null,
        validation: v.errorCodes ?? null,
        goodEvents: a.results.length + b.results.length,
      };
    },
    unauthenticated: async () => {
      const r = await run({ query: 'mutation { cancelJob(id: "x") { id } }' });
      return { codes: r.errorCodes ?? codes(r.results[0]?.errors) };
    },
  },
  { cleanup: () => client.close() },
);
