// The widget in a real browser: Debian's chromium, driven by playwright-core, against a
// running `askbase serve` (started by tests/web/test_widget_browser.py, which passes ASKBASE_URL,
// OWNER_TOKEN, XSS_QUESTION and ARTIFACTS). Nothing is mocked: the demo page, the widget
// script, the API, the WebSocket and the database are the real ones.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const BASE = process.env.ASKBASE_URL;
const ARTIFACTS = process.env.ARTIFACTS;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
mkdirSync(ARTIFACTS, { recursive: true });

let browser;
let nextIp = 1;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});
after(() => browser && browser.close());

/** A fresh visitor: its own browser context (storage) and its own client IP for the
 * server's per-IP rate limit (the server trusts this header in these tests only). */
async function visitor(options = {}) {
  const context = await browser.newContext({
    extraHTTPHeaders: { "x-test-client-ip": `10.0.0.${nextIp++}` },
    ...options,
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(BASE + "/demo");
  return { context, page, errors };
}

const widget = (page) => page.locator("[data-askbase-widget]");
const launcher = (page) => widget(page).getByRole("button", { name: /open chat|close chat/i }).last();
const input = (page) => widget(page).getByRole("textbox", { name: "Your question" });
const answers = (page) => widget(page).locator(".msg.assistant");

/** Types a question and sends it with Enter; returns once its answer bubble exists. */
async function ask(page, question) {
  const before = await answers(page).count();
  await input(page).fill(question);
  await input(page).press("Enter");
  await page.waitForFunction((n) => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    return root.querySelectorAll(".msg.assistant").length > n;
  }, before);
}

/** Delivers each message from the server to the widget `ms` after the previous one: a
 * slow network, simulated inside the page (the server, the protocol and the widget are
 * real). Records what the widget sends in window.__sent. */
async function slowNetwork(page, ms) {
  await page.evaluate((ms) => {
    window.__sent = [];
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      window.__sent.push(JSON.parse(data));
      return send.call(this, data);
    };
    const descriptor = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
    Object.defineProperty(WebSocket.prototype, "onmessage", {
      set(handler) {
        let clock = 0;
        descriptor.set.call(this, (event) => {
          clock = Math.max(clock, performance.now()) + ms;
          setTimeout(() => handler.call(this, event), clock - performance.now());
        });
      },
      get: descriptor.get,
    });
  }, ms);
}

/** Waits until the answer now streaming has ended (its sources, a note, or an error). */
async function settled(page) {
  await page.waitForFunction(() => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    return !root.querySelector(".msg.assistant[aria-busy]") && !root.querySelector(".typing");
  }, null, { timeout: 30000 });
}

test("asks, streams the answer token by token, shows sources", async () => {
  const { page, context, errors } = await visitor();
  const sessions = [];
  page.on("request", (request) => {
    if ((request.postData() || "").includes("startSession")) sessions.push(request.url());
  });
  await launcher(page).click();
  const panel = widget(page).getByRole("dialog", { name: "askbase demo" });
  await panel.waitFor();
  await answers(page).first().getByText("Ask me anything about askbase").waitFor();
  assert.equal(await widget(page).locator(".chip").count(), 3, "suggested questions");

  // The extractive answer arrives within one frame on loopback; at one server message
  // per 40 ms, each TokenDelta is rendered as it comes.
  await slowNetwork(page, 40);
  // Every change of the streaming answer's text, as the browser renders it.
  await page.evaluate(() => {
    const log = document.querySelector("[data-askbase-widget]").shadowRoot.querySelector(".log");
    window.__renders = [];
    new MutationObserver(() => {
      const busy = log.querySelector(".msg.assistant[aria-busy] .body");
      if (busy) window.__renders.push(busy.textContent.length);
    }).observe(log, { childList: true, subtree: true, characterData: true });
  });
  await ask(page, "How do I run the tests?");
  assert.equal(await answers(page).last().getByRole("status", { name: "The assistant is typing" }).count(), 1);
  await settled(page);
  const answer = answers(page).last();
  const text = await answer.locator(".body").innerText();
  assert.match(text, /make test/);
  assert.match(text, /\[1\]/, "citations");
  const renders = await page.evaluate(() => window.__renders);
  const lengths = [...new Set(renders)].filter((n) => n > 0);
  assert.ok(lengths.length >= 3, `streamed in several steps, got ${JSON.stringify(renders)}`);
  assert.deepEqual(lengths, [...lengths].sort((a, b) => a - b), "the text only grows");
  const sources = answer.getByRole("group", { name: "Sources" });
  assert.match(await sources.innerText(), /README\.md/);
  const announced = await widget(page).locator("[aria-live=polite]").innerText();
  const words = (t) => t.replace(/\s+/g, "");
  assert.equal(words(announced), words(text), "the finished answer, as rendered, goes to the live region");
  assert.equal(await widget(page).locator(".chip").count(), 0, "suggestions gone after asking");
  await page.screenshot({ path: `${ARTIFACTS}/answer.png` });

  // Page CSS does not leak in (button { background: hotpink }), and the widget's does not leak out.
  const launcherColor = await launcher(page).evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.equal(launcherColor, "rgb(37, 99, 235)");
  const pageParagraph = await page.locator("main p").first().evaluate((p) => getComputedStyle(p).marginBottom);
  assert.notEqual(pageParagraph, "6px");

  // Reload: the same visitor and chat, the history fetched with `messages`.
  await page.reload();
  await launcher(page).click();
  await answers(page).last().getByRole("group", { name: "Sources" }).waitFor();
  const history = await widget(page).locator(".msg").allInnerTexts();
  assert.ok(history.some((m) => m.includes("How do I run the tests?")), "the question is back");
  assert.match(history.at(-1), /make test/);
  assert.equal(await widget(page).locator(".chip").count(), 0, "no suggestions over a conversation");
  assert.equal(sessions.length, 1, "startSession once; the reload reuses the stored token");
  await page.screenshot({ path: `${ARTIFACTS}/reloaded.png` });

  // A new conversation: the welcome and the suggestions again, and no chat id kept.
  await widget(page).getByRole("button", { name: "New conversation" }).click();
  assert.equal(await widget(page).locator(".msg.user").count(), 0);
  assert.equal(await widget(page).locator(".chip").count(), 3);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])));
  assert.equal(stored.chatId, null);
  assert.ok(stored.token && stored.visitorId);
  assert.deepEqual(errors, []);
  await context.close();
});

test("the stop button completes the subscription and keeps the partial answer", async () => {
  const { page, context } = await visitor();
  await slowNetwork(page, 150); // time to press stop while the answer streams
  await launcher(page).click();
  await ask(page, "Which file formats can I upload?");
  await answers(page).last().locator(".body").getByText(/\w/).first().waitFor();
  const stop = widget(page).getByRole("button", { name: "Stop answer" });
  await stop.click();
  await settled(page);
  const answer = answers(page).last();
  assert.match(await answer.innerText(), /Stopped\./);
  const sent = await page.evaluate(() => window.__sent);
  const subscribe = sent.find((m) => m.type === "subscribe" && m.payload.query.includes("chatStream"));
  assert.ok(sent.some((m) => m.type === "complete" && m.id === subscribe.id), JSON.stringify(sent));
  await widget(page).getByRole("button", { name: "Send" }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/stopped.png` });
  await context.close();
});

test("keyboard only: open, ask, focus stays in the panel, Esc closes", async () => {
  const { page, context } = await visitor();
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press("Tab");
    const onLauncher = await page.evaluate(() => {
      const host = document.activeElement;
      return host && host.matches("[data-askbase-widget]") && host.shadowRoot.activeElement?.classList.contains("launcher");
    });
    if (onLauncher) break;
  }
  await page.keyboard.press("Enter");
  const focusedInPanel = () => page.evaluate(() => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    return root.querySelector(".panel").contains(root.activeElement) ? root.activeElement.tagName : null;
  });
  assert.equal(await focusedInPanel(), "TEXTAREA", "opening focuses the question box");
  await page.keyboard.type("Which file formats can I upload?");
  await page.keyboard.press("Enter");
  await settled(page);
  assert.match(await answers(page).last().innerText(), /\w/);
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    assert.ok(await focusedInPanel(), `Tab ${i + 1} left the panel`);
  }
  await page.keyboard.press("Shift+Tab");
  assert.ok(await focusedInPanel());
  await page.keyboard.press("Escape");
  assert.equal(await widget(page).locator(".panel").isHidden(), true);
  const back = await page.evaluate(() =>
    document.querySelector("[data-askbase-widget]").shadowRoot.activeElement?.classList.contains("launcher"));
  assert.ok(back, "focus returns to the launcher");
  await context.close();
});

test("rating an answer: thumbs down by keyboard, an optional comment, kept on reload", async () => {
  const { page, context, errors } = await visitor();
  await launcher(page).click();
  await ask(page, "Which file formats can I upload?");
  await settled(page);
  const rate = answers(page).last().getByRole("group", { name: "Rate this answer" });
  const up = rate.getByRole("button", { name: "Helpful", exact: true });
  const down = rate.getByRole("button", { name: "Not helpful" });
  assert.equal(await up.getAttribute("aria-pressed"), "false");
  await down.focus();
  await page.keyboard.press("Enter");
  const comment = rate.getByRole("textbox", { name: "What was missing? (optional)" });
  await comment.waitFor();
  assert.equal(await down.getAttribute("aria-pressed"), "true");
  assert.ok(await comment.evaluate((node) => node.getRootNode().activeElement === node), "the comment box has focus");
  await page.keyboard.type("<b>Nothing about ZIP files</b>");
  await page.keyboard.press("Enter");
  await rate.getByRole("status").getByText("Thanks for your feedback.").waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/rated.png` });

  // The rating is the visitor's, stored as plain text; the owner reads it with the chat.
  const chatId = await page.evaluate(() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).chatId);
  const response = await fetch(BASE + "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OWNER_TOKEN },
    body: JSON.stringify({
      query: "query($c: ID!) { messages(chatId: $c) { nodes { role feedback { rating comment } } } }",
      variables: { c: chatId },
    }),
  });
  const nodes = (await response.json()).data.messages.nodes;
  assert.deepEqual(nodes.at(-1).feedback, { rating: "DOWN", comment: "<b>Nothing about ZIP files</b>" });

  // Reload: the stored rating is shown pressed; changing it replaces it.
  await page.reload();
  await launcher(page).click();
  const again = answers(page).last().getByRole("group", { name: "Rate this answer" });
  await again.waitFor();
  assert.equal(await again.getByRole("button", { name: "Not helpful" }).getAttribute("aria-pressed"), "true");
  await again.getByRole("button", { name: "Helpful", exact: true }).click();
  await page.waitForFunction(() => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    return [...root.querySelectorAll(".rate button")].at(-2)?.getAttribute("aria-pressed") === "true";
  });
  assert.equal(await again.getByRole("textbox").count(), 0, "no comment box after a thumbs-up");
  assert.deepEqual(errors, []);
  await context.close();
});

test("narrow screens get a full-screen panel; reduced motion has no animation", async () => {
  const { page, context } = await visitor({
    viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, reducedMotion: "reduce",
  });
  await launcher(page).tap();
  const panel = widget(page).locator(".panel");
  assert.equal(await panel.evaluate((p) => p.getAnimations().length), 0, "no motion when reduced");
  const box = await widget(page).locator(".panel").boundingBox();
  assert.deepEqual([box.x, box.y, box.width, box.height].map(Math.round), [0, 0, 375, 667]);
  await ask(page, "How do I run the tests?");
  await settled(page);
  await page.screenshot({ path: `${ARTIFACTS}/mobile.png` });
  await widget(page).getByRole("button", { name: "Close chat" }).first().tap();
  assert.equal(await widget(page).locator(".panel").isHidden(), true);
  await context.close();
});

test("HTML in a document and in a message is shown as text, never run", async () => {
  const { page, context, errors } = await visitor();
  await page.evaluate(() => (window.__xss = 0));
  await launcher(page).click();
  const typed = `<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> [x](javascript:window.__xss=3)`;
  await ask(page, typed);
  await settled(page);
  await ask(page, process.env.XSS_QUESTION);
  await settled(page);
  const log = widget(page).locator(".log");
  const answer = await answers(page).last().locator(".body").innerText();
  assert.match(answer, /<img src=x onerror=/, "the document's markup is quoted as text");
  assert.equal(await log.locator("img, script, iframe, [onerror]").count(), 0);
  const hrefs = await log.locator("a").evaluateAll((links) => links.map((a) => [a.href, a.rel]));
  for (const [href, rel] of hrefs) {
    assert.match(href, /^(https?:|mailto:)/);
    assert.match(rel, /noopener/);
  }
  assert.ok(hrefs.some(([href]) => href.startsWith("https://example.com/")), JSON.stringify(hrefs));
  assert.ok((await widget(page).locator(".msg.user").allInnerTexts()).some((m) => m.includes("<script>")));
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.__xss), 0);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: `${ARTIFACTS}/xss.png` });
  await context.close();
});

test("a dropped connection is retried with backoff until the answer comes", async () => {
  const { page, context } = await visitor();
  let attempts = 0;
  const opened = [];
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    opened.push(Date.now());
    if (++attempts <= 2) return ws.close({ code: 1011, reason: "server going away" });
    ws.connectToServer();
  });
  await launcher(page).click();
  await ask(page, "How do I run the tests?");
  await settled(page);
  assert.match(await answers(page).last().innerText(), /make test/);
  assert.equal(attempts, 3);
  assert.ok(opened[2] - opened[1] > opened[1] - opened[0] - 50, "the wait grows");
  await context.close();
});

test("options: locale, theme, position, welcome message and suggestions", async () => {
  const { context } = await visitor();
  const page = await context.newPage();
  // A page of the website's own origin (the demo website allows it), with other options.
  await page.route(BASE + "/custom-page", (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><html lang="de"><title>Shop</title><body><main><h1>Shop</h1></main>
      <script src="/widget/chat-widget.js"></script>
      <script>window.AIChatWidget.init({ websiteId: ${JSON.stringify(process.env.WEBSITE_ID)},
        locale: "de", position: "bottom-left", theme: { primary: "#0f766e", radius: 4 },
        welcomeMessage: "Willkommen!", suggestedQuestions: ["Wie teste ich?"] });</script></body></html>`,
  }));
  await page.goto(BASE + "/custom-page");
  const open = widget(page).getByRole("button", { name: "Chat öffnen" });
  const box = await open.boundingBox();
  assert.ok(box.x < 100, "bottom-left");
  assert.equal(await open.evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(15, 118, 110)");
  await open.click();
  await widget(page).getByText("Willkommen!").waitFor();
  assert.deepEqual(await widget(page).locator(".chip").allInnerTexts(), ["Wie teste ich?"]);
  assert.equal(await widget(page).locator(".panel").evaluate((p) => getComputedStyle(p).borderRadius), "4px");
  await widget(page).getByRole("textbox", { name: "Ihre Frage" }).waitFor();
  await page.screenshot({ path: `${ARTIFACTS}/options.png` });
  await context.close();
});

test("hostile page CSS: no inherited text property reaches the widget", async () => {
  const { context } = await visitor();
  const page = await context.newPage();
  const hostile = `* { letter-spacing: 4px !important; word-spacing: 9px !important;
    text-transform: uppercase !important; text-indent: 30px !important; font-style: italic !important;
    font-weight: 900 !important; text-shadow: 0 0 2px red !important; line-height: 3 !important;
    white-space: pre !important; text-align: right !important; font-family: serif !important;
    font-size: 30px !important; color: red !important; visibility: visible !important;
    cursor: crosshair !important; font-feature-settings: "smcp" !important; word-break: break-all !important;
    -webkit-text-fill-color: lime !important; font-variant: small-caps !important; }`;
  await page.route(BASE + "/hostile-page", (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><html lang="en"><title>Hostile</title><style>${hostile}</style>
      <body><main><h1>Shop</h1></main><script src="/widget/chat-widget.js"></script>
      <script>window.AIChatWidget.init({ websiteId: ${JSON.stringify(process.env.WEBSITE_ID)},
        welcomeMessage: "Hello there" });</script></body></html>`,
  }));
  await page.goto(BASE + "/hostile-page");
  await launcher(page).click();
  const message = widget(page).getByText("Hello there");
  await message.waitFor();
  const style = await message.evaluate((node) => {
    const s = getComputedStyle(node);
    return {
      letterSpacing: s.letterSpacing, wordSpacing: s.wordSpacing, textTransform: s.textTransform,
      textIndent: s.textIndent, fontStyle: s.fontStyle, fontWeight: s.fontWeight, textShadow: s.textShadow,
      whiteSpace: s.whiteSpace, textAlign: s.textAlign, fontSize: s.fontSize, cursor: s.cursor,
      fontFeatureSettings: s.fontFeatureSettings, wordBreak: s.wordBreak, fontVariant: s.fontVariant,
      fill: s.webkitTextFillColor, color: s.color, lineHeight: s.lineHeight, fontFamily: s.fontFamily,
    };
  });
  assert.deepEqual(
    { ...style, fill: undefined, color: undefined, lineHeight: undefined, fontFamily: undefined },
    {
      letterSpacing: "normal", wordSpacing: "0px", textTransform: "none", textIndent: "0px",
      fontStyle: "normal", fontWeight: "400", textShadow: "none", whiteSpace: "normal",
      textAlign: "start", fontSize: "15px", cursor: "auto", fontFeatureSettings: "normal",
      wordBreak: "normal", fontVariant: "normal",
      fill: undefined, color: undefined, lineHeight: undefined, fontFamily: undefined,
    },
  );
  assert.equal(style.fill, style.color, "text is painted in the widget's own color");
  assert.notEqual(style.color, "rgb(255, 0, 0)");
  assert.equal(style.lineHeight, "22.5px");
  assert.ok(!/^serif$/.test(style.fontFamily), style.fontFamily);
  await page.screenshot({ path: `${ARTIFACTS}/hostile-css.png` });
  await context.close();
});

test("axe-core: no serious or critical violations, open and closed, light and dark", async () => {
  for (const colorScheme of ["light", "dark"]) {
    const { page, context } = await visitor({ colorScheme });
    const audit = async (state) => {
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
      const bad = result.violations.filter((v) => ["serious", "critical"].includes(v.impact));
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `${colorScheme}, ${state}`);
    };
    await audit("closed");
    await launcher(page).click();
    await ask(page, "How do I run the tests?");
    await settled(page);
    assert.match(await answers(page).last().innerText(), /make test/);
    await audit("open with an answer");
    await page.screenshot({ path: `${ARTIFACTS}/axe-${colorScheme}.png` });
    await context.close();
  }
});

test("a busy server: the widget says so and asks again by itself", async () => {
  const { page, context, errors } = await visitor();
  // The server's answer to the first question is replaced, inside the page, by the
  // refusal a server shedding load sends (UNAVAILABLE with retryAfter); the retry goes
  // to the real server. Making the real server busy would need a slow model here.
  await page.evaluate(() => {
    window.__refused = 0;
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
      const message = JSON.parse(data);
      const query = message.payload && message.payload.query;
      if (message.type === "subscribe" && query && query.includes("chatStream") && !window.__refused) {
        window.__refused = 1;
        const refusal = {
          id: message.id,
          type: "error",
          payload: [{ message: "The assistant is busy", extensions: { code: "UNAVAILABLE", retryAfter: 1 } }],
        };
        setTimeout(() => this.onmessage({ data: JSON.stringify(refusal) }), 10);
        return undefined;
      }
      return send.call(this, data);
    };
  });
  await launcher(page).click();
  await page.waitForFunction(() =>
    document.querySelector("[data-askbase-widget]").shadowRoot.textContent.includes("Ask me anything"),
  );
  const before = await answers(page).count(); // the welcome message
  await ask(page, "How do I run askbase?");
  const status = answers(page).last().getByRole("status");
  await page.waitForFunction(() => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    return root.textContent.includes("The assistant is busy. Trying again");
  });
  assert.match(await status.last().innerText(), /busy/);
  await page.waitForFunction(() => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    const last = [...root.querySelectorAll(".msg.assistant")].pop();
    return last && !last.hasAttribute("aria-busy") && !last.textContent.includes("busy");
  }, null, { timeout: 20000 });
  await settled(page);
  assert.equal(await answers(page).count(), before + 1, "the refused attempt's bubble is replaced");
  assert.equal(await answers(page).last().getByRole("alert").count(), 0);
  assert.match(await answers(page).last().innerText(), /\w/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("talk to a person: the team takes over and replies live, the assistant stays silent", async () => {
  const { page, context, errors } = await visitor();
  const owner = async (query, variables) => {
    const response = await fetch(BASE + "/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer " + process.env.OWNER_TOKEN,
        "x-test-client-ip": "10.0.200.1", // not the WebSocket's rate-limit bucket
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data;
  };
  await launcher(page).click();
  const human = widget(page).getByRole("button", { name: "Talk to a person" });
  await human.focus();
  await page.keyboard.press("Enter");
  await widget(page).locator(".handoff").getByText("We told the team: a person will reply here.").waitFor();
  await human.waitFor({ state: "hidden" });
  const chatId = await page.evaluate(() => JSON.parse(localStorage.getItem(Object.keys(localStorage)[0])).chatId);
  assert.ok(chatId);

  await owner("mutation($c: ID!) { takeOverChat(chatId: $c) { id } }", { c: chatId });
  await widget(page).locator(".handoff").getByText("You are chatting with the team.").waitFor();
  await owner("mutation($c: ID!, $m: String!) { replyToChat(chatId: $c, content: $m) { id } }", {
    c: chatId, m: "Hello, this is **Sam** from the team.",
  });
  const team = widget(page).locator(".msg.team");
  await team.getByText("Sam").waitFor();
  assert.match(await team.locator(".who").innerText(), /team/i);
  assert.equal(await team.locator("strong").innerText(), "Sam", "markdown, safely rendered");

  const before = await answers(page).count();
  await input(page).fill("Are you there?");
  await input(page).press("Enter");
  await widget(page).locator(".msg.user").getByText("Are you there?").waitFor();
  await widget(page).getByRole("button", { name: "Send" }).waitFor();
  assert.equal(await answers(page).count(), before, "no answer from the assistant");
  assert.equal(await widget(page).getByRole("alert").count(), 0);
  await page.screenshot({ path: `${ARTIFACTS}/team.png` });

  await owner("mutation($c: ID!) { releaseChat(chatId: $c) { id } }", { c: chatId });
  await human.waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("rate limits are shown with their wait time", async () => {
  const { page, context } = await visitor();
  await launcher(page).click();
  let limited = null;
  for (let i = 0; i < 40 && !limited; i++) {
    await ask(page, `Question number ${i}?`);
    await settled(page);
    const alert = answers(page).last().getByRole("alert");
    if (await alert.count()) limited = await alert.innerText();
  }
  assert.match(limited || "", /Try again in \d+ s/);
  const retry = answers(page).last().getByRole("button", { name: "Retry" });
  assert.equal(await retry.isDisabled(), true);
  await page.screenshot({ path: `${ARTIFACTS}/rate-limited.png` });
  // Retry unlocks after the wait, and then the question goes through.
  await page.waitForFunction(() => {
    const root = document.querySelector("[data-askbase-widget]").shadowRoot;
    return [...root.querySelectorAll(".retry")].some((b) => !b.disabled);
  }, null, { timeout: 20000 });
  await retry.click();
  await settled(page);
  assert.equal(await answers(page).last().getByRole("alert").count(), 0);
  assert.match(await answers(page).last().innerText(), /\w/);
  await context.close();
});
