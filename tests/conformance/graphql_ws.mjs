// The reference graphql-transport-ws client (graphql-ws), one socket for every check.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { plan, PROGRESS, OVER_TOKEN_LIMIT, codes, runChecks } from "./harness.mjs";

const client = createClient({
  url: plan.ws,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: plan.connectionParams ?? {},
});

// One operation: resolves with its results, or its error, once it completes.
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
      error: (error) => {
        const errors = Array.isArray(error) ? error : [error];
        resolve({ results, errorCodes: codes(errors), messages: errors.map((e) => e?.message ?? String(e)) });
      },
      complete: () => resolve({ results, completed: true }),
    });
  });
}

await runChecks(
  {
    query: async () => {
      const { results } = await run({ query: "{ questions { id } }" });
      return { questions: results[0].data.questions.length };
    },
    mutation: async () => {
      const { results } = await run({
        query: plan.submit,
        variables: { spec: plan.specs[0] },
      });
      return { expected: results[0].data.submitBiasJob.job.progress.expected };
    },
    subscription: async () => {
      const { results } = await run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      return { firstJobId: results[0].data.jobProgress.job.id };
    },
    // Several operations multiplexed on the socket: a subscription with a syntax error,
    // one over the token limit, and a validation error each get their error while two
    // good subscriptions and a query carry on.
    multiplexing: async () => {
      const good1 = run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      const syntax = run({ query: "subscription { jobProgress(jobId: " });
      const tokens = run({ query: OVER_TOKEN_LIMIT });
      const invalid = run({ query: "subscription { noSuchField }" });
      const good2 = run({ query: PROGRESS, variables: { jobId: plan.jobId } }, { take: 1 });
      const query = run({ query: "{ questions { id } }" });
      const [a, s, t, v, b, q] = await Promise.all([good1, syntax, tokens, invalid, good2, query]);
      return {
        syntaxError: s.errorCodes ?? null,
        tokenLimit: t.errorCodes ?? null,
        validation: v.errorCodes ?? null,
        goodEvents: a.results.length + b.results.length,
        queryAfter: q.results[0]?.data?.questions?.length ?? null,
      };
    },
    // The job list follows new jobs and status changes live (item 7): subscribe, then
    // submit a job and cancel it over HTTP.
    jobsChanged: async () => {
      const events = [];
      let dispose = () => {};
      let following;
      const live = new Promise((resolve) => (following = resolve));
      const threeEvents = new Promise((resolve, reject) => {
        dispose = client.subscribe(
          { query: "subscription { jobsChanged { kind jobId status progress { expected cancelled } } }" },
          {
            next: (value) => {
              events.push(value.data.jobsChanged);
              if (events.length === 1) following();
              if (events.length === 3) resolve();
            },
            error: reject,
            complete: () => reject(new Error("jobsChanged completed")),
          },
        );
      });
      await live; // the first event (RESYNC) says every later change will be seen
      const post = (query, variables, headers = {}) =>
        fetch(plan.http, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ query, variables }),
        }).then((r) => r.json());
      const submitted = await post(plan.submit, { spec: plan.specs[3] });
      const jobId = submitted.data.submitBiasJob.job.id;
      await post("mutation($id: ID!) { cancelJob(id: $id) { status } }", { id: jobId }, { authorization: `Bearer ${plan.adminToken}` });
      await threeEvents;
      dispose();
      return { events: events.map((e) => ({ ...e, jobId: e.jobId === jobId ? "<submitted>" : e.jobId })) };
    },
    notFound: async () => {
      const { results } = await run({ query: '{ job(id: "00000000-0000-0000-0000-000000000000") { id } }' });
      return { job: results[0].data.job };
    },
    unauthenticated: async () => {
      const { results } = await run({ query: 'mutation { cancelJob(id: "x") { id } }' });
      return { codes: codes(results[0].errors) };
    },
    badVariable: async () => {
      const r = await run({ query: "query($n: Int) { jobs(first: $n) { nodes { id } } }", variables: { n: "many" } });
      return { codes: r.errorCodes ?? codes(r.results[0]?.errors) };
    },
  },
  { cleanup: () => client.dispose() },
);
