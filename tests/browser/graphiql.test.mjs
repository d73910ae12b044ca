// GraphiQL offline: Debian's chromium, driven by playwright-core, with every request that is
// not to the askbase under test (ASKBASE_URL, on 127.0.0.1) refused twice over: by a route
// that records and aborts it, and by a proxy that does not exist. Run by
// tests/web/test_graphiql.py, which passes ASKBASE_URL, OWNER_TOKEN, WEBSITE_ID, ARTIFACTS.
// The page, its vendored files, the API and the WebSocket are the real ones.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = process.env.ASKBASE_URL;
const HOST = new URL(BASE).host;
const TOKEN = process.env.OWNER_TOKEN;
const WEBSITE_ID = process.env.WEBSITE_ID;
const ARTIFACTS = process.env.ARTIFACTS;
mkdirSync(ARTIFACTS, { recursive: true });

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      // No way out: only loopback bypasses a proxy, and this one does not answer.
      "--proxy-server=http://127.0.0.1:9",
    ],
  });
});
after(() => browser && browser.close());

/** GraphiQL's CodeMirror editors: the query, the headers, the response. */
const editor = (selector) => `${selector} .CodeMirror`;
const QUERY = editor(".graphiql-query-editor");
const HEADERS = editor(".graphiql-editor-tool .graphiql-editor:not(.hidden)");
const RESPONSE = editor(".graphiql-response");

async function text(page, selector) {
  return page.evaluate((s) => document.querySelector(s).CodeMirror.getValue(), selector);
}

async function setQuery(page, query) {
  await page.evaluate(
    ([s, value]) => document.querySelector(s).CodeMirror.setValue(value),
    [QUERY, query],
  );
}

/** Runs the query editor's operation; resolves with the response pane once `done`
 * accepts the parsed response. */
async function run(page, done) {
  await page.locator(".graphiql-execute-button").click();
  let last = "";
  await page.waitForFunction(
    ([s]) => document.querySelector(s).CodeMirror.getValue().trim().length > 0,
    [RESPONSE],
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    last = await text(page, RESPONSE);
    try {
      const parsed = JSON.parse(last);
      if (done(parsed)) return parsed;
    } catch {
      // a subscription's pane holds its latest result; wait for the next one
    }
    assert.ok(Date.now() < deadline, `no expected response; last: ${last}`);
    await page.waitForTimeout(100);
  }
}

test("GraphiQL loads, queries and subscribes with nothing but this server", async () => {
  const context = await browser.newContext();
  const blocked = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === HOST) return route.continue();
    blocked.push(url.href);
    return route.abort("internetdisconnected");
  });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) =>
      window.__violations.push(`${event.violatedDirective}: ${event.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  const introspected = page.waitForResponse((response) => {
    const body = response.request().postData() || "";
    return response.url().startsWith(BASE + "/graphql") && body.includes("IntrospectionQuery");
  });
  const sockets = [];
  page.on("websocket", (socket) => {
    const record = { url: socket.url(), sent: [], received: [] };
    socket.on("framesent", (frame) => record.sent.push(JSON.parse(frame.payload)));
    socket.on("framereceived", (frame) => record.received.push(JSON.parse(frame.payload)));
    sockets.push(record);
  });

  const response = await page.goto(BASE + "/graphql");
  assert.equal(response.status(), 200);
  await page.locator(QUERY).waitFor();
  await page.locator(HEADERS).waitFor(); // the Headers tab is open from the start

  // The schema came by introspection (documentation and completion work).
  const schema = await (await introspected).json();
  assert.equal(schema.errors, undefined, JSON.stringify(schema.errors));
  assert.ok(schema.data.__schema.types.some((type) => type.name === "Website"));

  await page.screenshot({ path: `${ARTIFACTS}/graphiql-start.png` });

  // Before a token is pasted: public fields answer, owner fields are refused, over HTTP
  // and over the WebSocket alike, with the server's message.
  await setQuery(page, "{ health { ok } }");
  assert.deepEqual(await run(page, (body) => Boolean(body.data || body.errors)), {
    data: { health: { ok: true } },
  });
  await setQuery(page, `subscription { documentStatus(documentId: "${WEBSITE_ID}") { id } }`);
  const refused = await run(page, (body) => Boolean(body.errors));
  assert.equal(refused.errors[0].extensions.code, "UNAUTHENTICATED", JSON.stringify(refused));

  // Paste the token over the placeholder the headers editor starts with.
  const headers = await text(page, HEADERS);
  assert.match(headers, /"Authorization": "Bearer <paste a token>"/);
  await page.evaluate((s) => {
    const cm = document.querySelector(s).CodeMirror;
    const from = cm.getValue().indexOf("<paste a token>");
    cm.focus();
    cm.setSelection(cm.posFromIndex(from), cm.posFromIndex(from + "<paste a token>".length));
  }, HEADERS);
  await page.keyboard.insertText(TOKEN);
  assert.match(await text(page, HEADERS), new RegExp(`"Bearer ${TOKEN}"`));

  // A query over HTTP with the token: the owner's website.
  await setQuery(page, "{ websites { id } }");
  const websites = await run(page, (body) => Boolean(body.data || body.errors));
  assert.deepEqual(websites, { data: { websites: [{ id: WEBSITE_ID }] } });

  // A mutation, then its document's status changes as a subscription over the WebSocket.
  await setQuery(
    page,
    `mutation { addDocumentText(websiteId: "${WEBSITE_ID}", filename: "graphiql.txt",` +
      ` text: "GraphiQL works without the internet.") { id } }`,
  );
  const added = await run(page, (body) => Boolean(body.data || body.errors));
  assert.equal(added.errors, undefined, JSON.stringify(added.errors));
  const documentId = added.data.addDocumentText.id;
  await setQuery(
    page,
    `subscription { documentStatus(documentId: "${documentId}") { id status } }`,
  );
  const ready = await run(page, (body) =>
    Boolean(body.errors || body.data?.documentStatus?.status === "READY"),
  );
  assert.deepEqual(ready, { data: { documentStatus: { id: documentId, status: "READY" } } });

  // One socket before the token and one with it, both to this page's URL.
  assert.equal(sockets.length, 2, JSON.stringify(sockets));
  assert.deepEqual(sockets[0].sent[0], { type: "connection_init", payload: {} });
  const socket = sockets[1];
  assert.equal(socket.url, BASE.replace(/^http/, "ws") + "/graphql");
  assert.deepEqual(socket.sent[0], {
    type: "connection_init",
    payload: { Authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(socket.received[0].type, "connection_ack");
  const events = socket.received.filter((message) => message.type === "next");
  assert.ok(events.length >= 1, JSON.stringify(socket.received));
  assert.equal(events.at(-1).payload.data.documentStatus.status, "READY");

  await page.screenshot({ path: `${ARTIFACTS}/graphiql.png` });

  // The documentation explorer reads the introspected schema; the settings dialog adds a
  // <style> element, which the page's policy admits by its nonce.
  await page.locator(".graphiql-sidebar button").first().click();
  await page.locator(".graphiql-doc-explorer").getByText("subscription:").waitFor();
  await page.getByRole("button", { name: "Open settings dialog" }).click();
  await page.getByRole("dialog").waitFor();
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  assert.deepEqual(blocked, []);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(errors, []);
  await context.close();
});
