// urql's core client: fetchExchange for queries and mutations, subscriptionExchange over
// graphql-ws for subscriptions.
import { Client, fetchExchange, subscriptionExchange, gql } from "@urql/core";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { pipe, subscribe, take, toPromise } from "wonka";
import { plan, PROGRESS, codes, runChecks } from "./harness.mjs";

const wsClient = createClient({ url: plan.ws, webSocketImpl: WebSocket, retryAttempts: 0 });
const client = new Client({
  url: plan.http,
  requestPolicy: "network-only",
  exchanges: [
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || "" };
        return { subscribe: (sink) => ({ unsubscribe: wsClient.subscribe(input, sink) }) };
      },
    }),
  ],
});

await runChecks(
  {
    query: async () => {
      const result = await client.query(gql`{ questions { id } }`, {}).toPromise();
      return { questions: result.data?.questions?.length ?? null, error: result.error?.message ?? null };
    },
    mutation: async () => {
      const result = await client.mutation(plan.submit, { spec: plan.specs[2] }).toPromise();
      return { expected: result.data?.submitBiasJob?.job?.progress?.expected ?? null };
    },
    errors: async () => {
      const invalid = await client.query("{ noSuchField }", {}).toPromise();
      const unauthenticated = await client.mutation('mutation { cancelJob(id: "x") { id } }', {}).toPromise();
      const badVariable = await client
        .query("query($n: Int) { jobs(first: $n) { nodes { id } } }", { n: "many" })
        .toPromise();
      const of = (r) => codes(r.error?.graphQLErrors);
      // (urql parses documents itself: a syntax error never leaves it.)
      return { invalid: of(invalid), unauthenticated: of(unauthenticated), badVariable: of(badVariable) };
    },
    subscription: async () => {
      const result = await pipe(client.subscription(PROGRESS, { jobId: plan.jobId }), take(1), toPromise);
      return { firstJobId: result.data?.jobProgress?.job?.id ?? null };
    },
  },
  { cleanup: () => wsClient.dispose() },
);
