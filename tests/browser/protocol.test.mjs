// The widget's own operations, run by the reference client of the protocol it speaks: the
// graphql-ws npm package (graphql-transport-ws) over the ws package, against a running
// `askbase serve`. The operations are read from the served widget script itself.
import assert from "node:assert/strict";
import { test } from "node:test";
import vm from "node:vm";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const BASE = process.env.ASKBASE_URL;
const ORIGIN = BASE; // the demo website allows its own local origin
// Its own client IP for the server's per-IP rate limit (trusted in these tests only).
const IP = { "x-test-client-ip": "10.0.1.1" };

async function widgetOperations() {
  const source = await (await fetch(BASE + "/widget/chat-widget.js")).text();
  const window = {};
  vm.runInNewContext(source, { window, document: {}, location: { origin: BASE } });
  return window.AIChatWidget.operations;
}

async function http(query, variables, token) {
  const headers = { "content-type": "application/json", origin: ORIGIN, ...IP };
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(BASE + "/graphql", {
    method: "POST", headers, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

class OriginWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { origin: ORIGIN, headers: IP });
  }
}

function client(token) {
  return createClient({
    url: BASE.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: OriginWebSocket,
    connectionParams: { authorization: "Bearer " + token },
    retryAttempts: 0,
  });
}

test("startSession, createChat, chatStream and messages through graphql-ws", async () => {
  const ops = await widgetOperations();
  const website = process.env.WEBSITE_ID;
  const session = (await http(ops.session, { w: website })).startSession;
  assert.equal(session.website.id, website);
  const chatId = (await http(ops.chat, { w: website }, session.token)).createChat.id;

  const ws = client(session.token);
  try {
    const events = [];
    for await (const result of ws.iterate({
      query: ops.stream, variables: { c: chatId, m: "How do I run the tests?" },
    })) {
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      events.push(result.data.chatStream);
    }
    const kinds = events.map((e) => e.__typename);
    assert.equal(kinds[0], "SourcesFound");
    assert.equal(kinds.at(-1), "MessageDone");
    assert.ok(kinds.slice(1, -1).every((k) => k === "TokenDelta") && kinds.length > 3, kinds.join());
    const streamed = events.filter((e) => e.__typename === "TokenDelta").map((e) => e.text).join("");
    const done = events.at(-1).message;
    assert.equal(streamed, done.content);
    assert.equal(done.status, "COMPLETE");
    assert.ok(done.sources.length > 0);

    // Queries run over the same socket too (graphql-transport-ws carries every operation).
    const page = [];
    for await (const result of ws.iterate({ query: ops.messages, variables: { c: chatId } })) {
      page.push(...result.data.messages.nodes);
    }
    assert.deepEqual(page.map((m) => [m.role, m.status]), [["USER", "COMPLETE"], ["ASSISTANT", "COMPLETE"]]);
    assert.equal(page[1].content, done.content);
  } finally {
    await ws.dispose();
  }
});

test("a forged token is refused at connection_init with 4401", async () => {
  const ws = createClient({
    url: BASE.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: OriginWebSocket,
    connectionParams: { authorization: "Bearer forged.token.value" },
    retryAttempts: 0,
  });
  const closed = new Promise((resolve) => ws.on("closed", (event) => resolve(event.code)));
  const iterator = ws.iterate({ query: "{ health { ok } }" });
  await assert.rejects(iterator.next());
  assert.equal(await closed, 4401);
  await ws.dispose();
});
