// askbase with the GraphQL clients front ends use, each with its default settings, against
// a running server (tests/web/test_clients.py starts it, with a website that has a
// document, and passes ASKBASE_URL, ORIGIN, WEBSITE_ID, QUESTION and EXPIRED_TOKEN):
// urql's fetch exchange (queries, mutations, errors, subscriptions over HTTP), Apollo
// Client's persisted-query link and its HTTP subscriptions, and the graphql-ws reference
// client, alone and through Apollo's GraphQLWsLink.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { test } from "node:test";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const BASE = process.env.ASKBASE_URL;
const ORIGIN = process.env.ORIGIN;
const WEBSITE = process.env.WEBSITE_ID;
const QUESTION = process.env.QUESTION;
const WS_URL = BASE.replace(/^http/, "ws") + "/graphql";

const START_SESSION = "mutation StartSession($w: ID!) { startSession(websiteId: $w) { token website { id } } }";
const CREATE_CHAT = "mutation CreateChat($w: ID!) { createChat(websiteId: $w) { id websiteId } }";
const CHAT_STREAM = `
subscription ChatStream($c: ID!, $m: String!) {
  chatStream(chatId: $c, message: $m) {
    __typename
    ... on SourcesFound { messageId sources { documentId title } }
    ... on TokenDelta { messageId text }
    ... on MessageDone { message { id content status } }
    ... on ChatFailed { code detail }
  }
}`;
const POSSIBLE_TYPES = { ChatEvent: ["SourcesFound", "TokenDelta", "MessageDone", "ChatFailed"] };

function urql(token) {
  const headers = { origin: ORIGIN, ...(token ? { authorization: "Bearer " + token } : {}) };
  return new Client({
    url: BASE + "/graphql",
    exchanges: [cacheExchange, fetchExchange],
    fetchSubscriptions: true,
    fetchOptions: () => ({ headers }),
  });
}

/** A visitor of the test website with a chat of their own, through urql. */
async function visitorChat() {
  const started = await urql().mutation(START_SESSION, { w: WEBSITE }).toPromise();
  assert.equal(started.error, undefined, started.error?.message);
  const token = started.data.startSession.token;
  const chat = await urql(token).mutation(CREATE_CHAT, { w: WEBSITE }).toPromise();
  assert.equal(chat.error, undefined, chat.error?.message);
  return { token, chatId: chat.data.createChat.id };
}

/** SourcesFound, then TokenDelta events that spell the answer, then MessageDone. */
function assertAnswered(events) {
  const kinds = events.map((e) => e.__typename);
  assert.equal(kinds[0], "SourcesFound", kinds.join());
  assert.equal(kinds.at(-1), "MessageDone", kinds.join());
  assert.ok(kinds.length > 2 && kinds.slice(1, -1).every((k) => k === "TokenDelta"), kinds.join());
  assert.ok(events[0].sources.length > 0);
  const streamed = events.filter((e) => e.__typename === "TokenDelta").map((e) => e.text).join("");
  assert.equal(streamed, events.at(-1).message.content);
  assert.equal(events.at(-1).message.status, "COMPLETE");
}

function wsClient(token, options = {}) {
  let attempts = 0;
  const client = createClient({
    url: WS_URL,
    webSocketImpl: class extends WebSocket {
      constructor(url, protocols) {
        attempts += 1;
        super(url, protocols, { origin: ORIGIN });
      }
    },
    connectionParams: { authorization: "Bearer " + token },
    ...options,
  });
  return { client, attempts: () => attempts };
}

test("urql: a query, a mutation, and a GraphQL error with its code", async () => {
  const health = await urql().query("query Health { health { ok } }", {}).toPromise();
  assert.equal(health.error, undefined, health.error?.message);
  assert.equal(health.data.health.ok, true);

  const { token, chatId } = await visitorChat();
  assert.ok(chatId);

  const wrong = await urql(token)
    .query("query Messages($c: ID!) { messages(chatId: $c) { nodes { id } } }", { c: "not-an-id" })
    .toPromise();
  assert.ok(wrong.error, JSON.stringify(wrong.data));
  const [error] = wrong.error.graphQLErrors;
  assert.equal(error.extensions.code, "BAD_USER_INPUT", JSON.stringify(error));
  assert.ok(error.extensions.requestId, JSON.stringify(error));
  assert.equal(wrong.error.networkError, undefined);
});

test("urql: chatStream over HTTP with fetchSubscriptions and the default Accept header", async () => {
  const { token, chatId } = await visitorChat();
  const events = await new Promise((resolve, reject) => {
    const seen = [];
    let last;
    const { unsubscribe } = urql(token)
      .subscription(CHAT_STREAM, { c: chatId, m: QUESTION })
      .subscribe((result) => {
        if (result.error) {
          unsubscribe();
          reject(result.error);
          return;
        }
        if (result.data && result.data !== last) {
          last = result.data;
          seen.push(result.data.chatStream);
        }
        if (result.hasNext === false) resolve(seen);
      });
  });
  assertAnswered(events);
});

test("Apollo Client: the persisted-query link registers a query once, then sends its hash alone", async () => {
  const sent = [];
  const answered = [];
  async function recordingFetch(uri, init) {
    sent.push(JSON.parse(init.body));
    const response = await fetch(uri, init);
    answered.push({ status: response.status, body: await response.clone().json() });
    return response;
  }
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  // A query of this run alone, so that the server cannot know its hash yet.
  const query = gql(`query Probe { health { ok version } run${randomBytes(6).toString("hex")}: __typename }`);
  const client = () =>
    new ApolloClient({
      link: new PersistedQueryLink({ sha256 }).concat(
        new HttpLink({ uri: BASE + "/graphql", fetch: recordingFetch, headers: { origin: ORIGIN } }),
      ),
      cache: new InMemoryCache(),
    });

  const first = await client().query({ query });
  assert.equal(first.error, undefined, first.error?.message);
  assert.equal(first.data.health.ok, true);
  assert.equal(sent.length, 2, JSON.stringify(answered));
  const hash = sent[0].extensions.persistedQuery.sha256Hash;
  assert.deepEqual(sent[0].extensions.persistedQuery, { version: 1, sha256Hash: hash });
  assert.equal(sent[0].query, undefined);
  assert.equal(answered[0].body.errors[0].extensions.code, "PERSISTED_QUERY_NOT_FOUND", JSON.stringify(answered[0]));
  assert.equal(hash, sha256(sent[1].query));
  assert.deepEqual(sent[1].extensions.persistedQuery, { version: 1, sha256Hash: hash });
  assert.equal(answered[1].body.errors, undefined, JSON.stringify(answered[1]));

  const again = await client().query({ query });
  assert.equal(again.error, undefined, again.error?.message);
  assert.deepEqual(again.data, first.data);
  assert.equal(sent.length, 3, JSON.stringify(answered));
  assert.equal(sent[2].query, undefined);
  assert.equal(sent[2].extensions.persistedQuery.sha256Hash, hash);
  assert.equal(answered[2].status, 200);
});

test("Apollo Client: chatStream over HTTP (multipart/mixed, subscriptionSpec 1.0) through HttpLink", async () => {
  const { token, chatId } = await visitorChat();
  const accepts = [];
  async function recordingFetch(uri, init) {
    accepts.push(new Headers(init.headers).get("accept"));
    return fetch(uri, init);
  }
  const client = new ApolloClient({
    link: new HttpLink({
      uri: BASE + "/graphql",
      fetch: recordingFetch,
      headers: { origin: ORIGIN, authorization: "Bearer " + token },
    }),
    cache: new InMemoryCache({ possibleTypes: POSSIBLE_TYPES }),
  });
  const events = await new Promise((resolve, reject) => {
    const seen = [];
    client.subscribe({ query: gql(CHAT_STREAM), variables: { c: chatId, m: QUESTION } }).subscribe({
      next: (result) => (result.error ? reject(result.error) : seen.push(result.data.chatStream)),
      error: reject,
      complete: () => resolve(seen),
    });
  });
  assert.match(accepts[0], /multipart\/mixed/);
  assertAnswered(events);
});

for (const [kind, token] of [
  ["a forged", "forged.token.value"],
  ["an expired", process.env.EXPIRED_TOKEN],
]) {
  test(`graphql-ws, default retries: ${kind} token fails at once, with one connection, as UNAUTHENTICATED`, async () => {
    const { client, attempts } = wsClient(token);
    const closed = new Promise((resolve) => client.on("closed", resolve));
    const started = performance.now();
    const failure = await new Promise((resolve) => {
      client.subscribe({ query: "query Health { health { ok } }" }, {
        next: () => {},
        error: resolve,
        complete: () => resolve(new Error("completed instead of failing")),
      });
    });
    const elapsed = performance.now() - started;
    try {
      const event = await closed;
      assert.equal(event.code, 4401, `${event.code} ${event.reason}`);
      assert.match(event.reason, /^UNAUTHENTICATED/);
      assert.equal(failure.code, 4401, String(failure));
      assert.ok(elapsed < 2000, `the error came after ${Math.round(elapsed)} ms`);
      assert.equal(attempts(), 1);
    } finally {
      await client.dispose();
    }
  });
}

test("Apollo GraphQLWsLink, default retries: a forged token fails at once as UNAUTHENTICATED", async () => {
  const { client: ws, attempts } = wsClient("forged.token.value");
  const client = new ApolloClient({
    link: new GraphQLWsLink(ws),
    cache: new InMemoryCache({ possibleTypes: POSSIBLE_TYPES }),
  });
  const started = performance.now();
  try {
    const failure = await new Promise((resolve) => {
      client.subscribe({ query: gql(CHAT_STREAM), variables: { c: "00000000-0000-0000-0000-000000000000", m: "?" } }).subscribe({
        next: (result) => resolve(result.error ?? new Error("an event instead of an error")),
        error: resolve,
        complete: () => resolve(new Error("completed instead of failing")),
      });
    });
    const elapsed = performance.now() - started;
    assert.match(failure.message, /^Socket closed with event 4401 UNAUTHENTICATED/);
    assert.ok(elapsed < 2000, `the error came after ${Math.round(elapsed)} ms`);
    assert.equal(attempts(), 1);
  } finally {
    await ws.dispose();
  }
});

test("graphql-ws: a subscribe that does not parse fails alone; the chatStream beside it completes", async () => {
  const { token, chatId } = await visitorChat();
  const { client, attempts } = wsClient(token, { retryAttempts: 0 });
  let closes = 0;
  client.on("closed", () => (closes += 1));
  try {
    let broken;
    const events = await new Promise((resolve, reject) => {
      const seen = [];
      client.subscribe({ query: CHAT_STREAM, variables: { c: chatId, m: QUESTION } }, {
        next: (result) => {
          if (result.errors) reject(new Error(JSON.stringify(result.errors)));
          seen.push(result.data.chatStream);
          if (seen.length === 1) {
            broken = new Promise((done) => {
              client.subscribe({ query: "subscription { chatStream(chatId: " }, {
                next: (value) => done({ unexpected: value }),
                error: done,
                complete: () => done({ unexpected: "complete" }),
              });
            });
          }
        },
        error: reject,
        complete: () => resolve(seen),
      });
    });
    assertAnswered(events);
    const errors = await broken;
    assert.ok(Array.isArray(errors) && errors.length > 0, JSON.stringify(errors));
    for (const error of errors) {
      assert.equal(error.extensions?.code, "GRAPHQL_PARSE_FAILED", JSON.stringify(error));
      assert.ok(error.extensions?.requestId, JSON.stringify(error));
    }
    assert.equal(closes, 0);
    assert.equal(attempts(), 1);
  } finally {
    await client.dispose();
  }
});
