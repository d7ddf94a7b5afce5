// Apollo Client 3 with its links: HttpLink, BatchHttpLink, the persisted-queries link,
// multipart subscriptions over HttpLink, GraphQLWsLink (graphql-ws) and WebSocketLink
// (subscriptions-transport-ws).
import { createHash } from "node:crypto";
import { ApolloClient, InMemoryCache, HttpLink, gql } from "@apollo/client/core/index.js";
import { BatchHttpLink } from "@apollo/client/link/batch-http/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions/index.js";
import { WebSocketLink } from "@apollo/client/link/ws/index.js";
import { createClient } from "graphql-ws";
import subscriptionsTransportWs from "subscriptions-transport-ws";
import WebSocket from "ws";
import { plan, PROGRESS, codes, runChecks } from "./harness.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const QUESTIONS = gql`query Questions { questions { id } }`;

// A fetch that remembers what was sent (to count requests and see persisted-query retries).
function recordingFetch() {
  const sent = [];
  const fetchImpl = async (url, options) => {
    sent.push({ body: options.body ? JSON.parse(options.body) : null, accept: options.headers?.accept });
    return fetch(url, options);
  };
  return { sent, fetchImpl };
}

function apollo(link) {
  return new ApolloClient({ link, cache: new InMemoryCache(), defaultOptions: { query: { fetchPolicy: "no-cache", errorPolicy: "all" }, mutate: { errorPolicy: "all" } } });
}

const closers = [];

function firstEvent(client, query, variables) {
  return new Promise((resolve, reject) => {
    const subscription = client.subscribe({ query, variables }).subscribe({
      next: (value) => {
        subscription.unsubscribe();
        resolve(value);
      },
      error: reject,
    });
  });
}

await runChecks(
  {
    httpQuery: async () => {
      const client = apollo(new HttpLink({ uri: plan.http }));
      const result = await client.query({ query: QUESTIONS });
      return { questions: result.data.questions.length };
    },
    httpMutation: async () => {
      const client = apollo(new HttpLink({ uri: plan.http }));
      const result = await client.mutate({ mutation: gql(plan.submit), variables: { spec: plan.specs[0] } });
      return { expected: result.data.submitBiasJob.job.progress.expected };
    },
    httpErrors: async () => {
      const client = apollo(new HttpLink({ uri: plan.http }));
      const invalid = await client.query({ query: gql`{ noSuchField }` }).catch((e) => e);
      const unauthenticated = await client.mutate({ mutation: gql`mutation { cancelJob(id: "x") { id } }` });
      const badVariable = await client
        .query({ query: gql`query($n: Int) { jobs(first: $n) { nodes { id } } }`, variables: { n: "many" } })
        .catch((e) => e);
      const errorsOf = (r) => r.errors ?? r.graphQLErrors ?? r.networkError?.result?.errors;
      return {
        invalid: codes(errorsOf(invalid)),
        unauthenticated: codes(unauthenticated.errors),
        badVariable: codes(errorsOf(badVariable)),
      };
    },
    batch: async () => {
      const { sent, fetchImpl } = recordingFetch();
      const client = apollo(new BatchHttpLink({ uri: plan.http, batchMax: 5, batchInterval: 20, fetch: fetchImpl }));
      const [a, b] = await Promise.all([
        client.query({ query: QUESTIONS }),
        client.query({ query: gql`query Job($id: ID!) { job(id: $id) { id } }`, variables: { id: plan.jobId } }),
      ]);
      return { requests: sent.length, operations: sent[0]?.body?.length ?? null, questions: a.data.questions.length, jobId: b.data.job?.id ?? null };
    },
    persistedQueries: async () => {
      const query = gql`query PersistedProbe { questions { id category } }`;
      const first = recordingFetch();
      const one = apollo(createPersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: plan.http, fetch: first.fetchImpl })));
      const r1 = await one.query({ query });
      const second = recordingFetch();
      const two = apollo(createPersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: plan.http, fetch: second.fetchImpl })));
      const r2 = await two.query({ query });
      const shape = (sent) => sent.map((s) => ({ query: typeof s.body?.query === "string", hash: !!s.body?.extensions?.persistedQuery?.sha256Hash }));
      return { first: shape(first.sent), second: shape(second.sent), answers: [r1.data?.questions?.length ?? null, r2.data?.questions?.length ?? null] };
    },
    multipartSubscription: async () => {
      const client = apollo(new HttpLink({ uri: plan.http }));
      const event = await firstEvent(client, gql(PROGRESS), { jobId: plan.jobId });
      return { firstJobId: event.data?.jobProgress?.job?.id ?? null, errors: codes(event.errors) };
    },
    graphqlWsLink: async () => {
      const wsClient = createClient({ url: plan.ws, webSocketImpl: WebSocket, retryAttempts: 0 });
      closers.push(() => wsClient.dispose());
      const client = apollo(new GraphQLWsLink(wsClient));
      const result = await client.query({ query: QUESTIONS });
      const event = await firstEvent(client, gql(PROGRESS), { jobId: plan.jobId });
      return { questions: result.data.questions.length, firstJobId: event.data.jobProgress.job.id };
    },
    webSocketLink: async () => {
      const legacy = new subscriptionsTransportWs.SubscriptionClient(plan.ws, { reconnect: false }, WebSocket);
      closers.push(() => legacy.close());
      const client = apollo(new WebSocketLink(legacy));
      const result = await client.query({ query: QUESTIONS });
      const mutation = await client.mutate({ mutation: gql(plan.submit), variables: { spec: plan.specs[1] } });
      const event = await firstEvent(client, gql(PROGRESS), { jobId: plan.jobId });
      return {
        questions: result.data?.questions?.length ?? null,
        errors: codes(result.errors),
        expected: mutation.data?.submitBiasJob?.job?.progress?.expected ?? null,
        firstJobId: event.data.jobProgress.job.id,
      };
    },
  },
  { cleanup: async () => { for (const close of closers) await close(); } },
);
