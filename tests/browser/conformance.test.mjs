// askbase with the GraphQL tools teams already use, against a running `askbase serve`
// (tests/web/test_conformance.py starts it): the graphql-http server audits, Apollo Client
// over HTTP and graphql-ws, and GraphQL Code Generator on the committed schema.graphql
// with the widget's own operations, type-checked by tsc.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import vm from "node:vm";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { generate } from "@graphql-codegen/cli";
import { getMainDefinition } from "@apollo/client/utilities";
import { serverAudits } from "graphql-http";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const BASE = process.env.ASKBASE_URL;
const ARTIFACTS = process.env.ARTIFACTS;
const ORIGIN = BASE;
// Its own client IP for the server's per-IP rate limit (trusted in these tests only).
const IP = { "x-test-client-ip": "10.0.2.1" };
mkdirSync(ARTIFACTS, { recursive: true });

async function widgetOperations() {
  const source = await (await fetch(BASE + "/widget/chat-widget.js")).text();
  const window = {};
  vm.runInNewContext(source, { window, document: {}, location: { origin: BASE } });
  return window.AIChatWidget.operations;
}

test("graphql-http audits: every MUST, SHOULD and MAY passes", async () => {
  const results = [];
  for (const audit of serverAudits({ url: BASE + "/graphql", fetchFn: fetch })) {
    const result = await audit.fn();
    results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason });
  }
  writeFileSync(join(ARTIFACTS, "graphql-http-audits.json"), JSON.stringify(results, null, 2));
  const failed = results.filter((r) => r.status !== "ok");
  assert.deepEqual(failed, [], JSON.stringify(failed, null, 2));
  assert.ok(results.length >= 50, `only ${results.length} audits ran`);
});

test("Apollo Client: query, mutation, and chatStream through GraphQLWsLink", async () => {
  const ops = await widgetOperations();
  const website = process.env.WEBSITE_ID;
  const http = new HttpLink({ uri: BASE + "/graphql", fetch, headers: { origin: ORIGIN, ...IP } });
  const anonymous = new ApolloClient({ link: http, cache: new InMemoryCache() });
  const started = await anonymous.mutate({ mutation: gql(ops.session), variables: { w: website } });
  const token = started.data.startSession.token;

  const headers = { origin: ORIGIN, authorization: "Bearer " + token, ...IP };
  const wsClient = createClient({
    url: BASE.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: class extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols, { origin: ORIGIN, headers: IP });
      }
    },
    connectionParams: { authorization: "Bearer " + token },
    retryAttempts: 0,
  });
  const link = ApolloLink.split(
    ({ query }) => getMainDefinition(query).operation === "subscription",
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: BASE + "/graphql", fetch, headers }),
  );
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache({
      possibleTypes: { ChatEvent: ["SourcesFound", "TokenDelta", "MessageDone", "ChatFailed"] },
    }),
  });
  try {
    const site = await client.query({ query: gql(ops.website), variables: { w: website } });
    assert.ok(site.data.website.settings.title);
    const chat = await client.mutate({ mutation: gql(ops.chat), variables: { w: website } });
    const chatId = chat.data.createChat.id;
    const events = await new Promise((resolve, reject) => {
      const seen = [];
      client
        .subscribe({ query: gql(ops.stream), variables: { c: chatId, m: "How do I run the tests?" } })
        .subscribe({
          next: (result) => (result.error ? reject(result.error) : seen.push(result.data.chatStream)),
          error: reject,
          complete: () => resolve(seen),
        });
    });
    const kinds = events.map((e) => e.__typename);
    assert.equal(kinds[0], "SourcesFound");
    assert.equal(kinds.at(-1), "MessageDone");
    assert.match(events.at(-1).message.content, /make test/);
    const history = await client.query({ query: gql(ops.messages), variables: { c: chatId } });
    assert.equal(history.data.messages.nodes.length, 2);
  } finally {
    await wsClient.dispose();
  }
});

test("GraphQL Code Generator: TypeScript types for the widget's operations compile", async () => {
  const ops = await widgetOperations();
  const dir = join(ARTIFACTS, "codegen");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "widget.graphql"), Object.values(ops).join("\n\n"));
  const output = join(dir, "widget-types.ts");
  await generate(
    {
      schema: process.env.SCHEMA,
      documents: join(dir, "widget.graphql"),
      generates: { [output]: { plugins: ["typescript-operations"] } },
      silent: true,
    },
    true,
  );
  const types = readFileSync(output, "utf8");
  for (const name of ["StartSessionMutation", "CreateChatMutation", "ChatMessagesQuery", "ChatStreamSubscription", "WebsiteQuery"]) {
    assert.match(types, new RegExp(`export type ${name}\\b`), name);
  }
  execFileSync(
    join(process.cwd(), "node_modules", ".bin", "tsc"),
    ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2020", output],
    { stdio: "pipe" },
  );
});
