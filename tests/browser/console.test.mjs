// The owners' console in Debian's chromium (playwright-core): sign in through a one-time
// link, create a website, change its settings, upload documents (file input and drag and
// drop) and watch them reach Ready live, delete. Run by tests/web/test_console_browser.py,
// which passes CONSOLE_LINK (from `askbase console-link`'s function), OWNER_TOKEN and
// ARTIFACTS.
// Nothing but the askbase under test can be reached: a proxy that does not exist.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium } from "playwright-core";

const LINK = process.env.CONSOLE_LINK;
const TOKEN = process.env.OWNER_TOKEN; // as Supabase Auth would hand it over
const ARTIFACTS = process.env.ARTIFACTS;
const DOMAIN = "console-test.example";
mkdirSync(ARTIFACTS, { recursive: true });

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const violations = [];

/** axe-core on the view as it is now, in light and dark: serious and critical findings. */
async function audit(view) {
  for (const colorScheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme });
    if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
    const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    for (const v of result.violations) {
      if (["serious", "critical"].includes(v.impact)) violations.push(`${view} (${colorScheme}): ${v.id} ${v.nodes.map((n) => n.target).join(" ")}`);
    }
  }
  await page.emulateMedia({ colorScheme: null });
}

let browser;
let page;
const problems = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--proxy-server=http://127.0.0.1:9"],
  });
  page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
});
after(async () => {
  if (page) await page.screenshot({ path: join(ARTIFACTS, "last.png"), fullPage: true });
  await browser?.close();
});

test("a one-time link signs in, and its code leaves the address bar at once", async () => {
  await page.goto(LINK);
  await page.getByRole("heading", { name: "Websites" }).waitFor();
  const url = new URL(page.url());
  assert.equal(url.hash, "");
  assert.ok(!page.url().includes("code="), page.url());
  const stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
  assert.deepEqual(stored, { session: 1, local: 0 });
  await page.getByText("No website yet").waitFor();
  await audit("websites");
});

test("the same link does not sign in twice", async () => {
  const other = await browser.newPage();
  await other.goto(LINK);
  await other.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
  assert.equal(new URL(other.url()).hash, "");
  await other.close();
});

test("an owner creates a website and changes its settings", async () => {
  await page.getByLabel("Domain").fill(DOMAIN);
  await page.getByLabel("Name").fill("Console test");
  await page.getByRole("button", { name: "Create website" }).click();
  await page.getByRole("heading", { name: "Console test", level: 1 }).waitFor();
  assert.match(page.url(), /#\/websites\/[0-9a-f-]{36}$/);

  const origins = page.getByLabel("Allowed origins");
  await origins.fill("https://console-test.example/docs");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByRole("alert").filter({ hasText: "is not an origin" }).waitFor();
  assert.equal(await origins.getAttribute("aria-invalid"), "true");
  await audit("settings");

  await origins.fill("https://console-test.example\nhttps://www.console-test.example/");
  await page.getByLabel("Welcome message").fill("Hello from the console");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Saved.", { exact: true }).waitFor();

  await page.reload(); // the session survives a reload of the tab (sessionStorage)
  await page.getByRole("heading", { name: "Console test", level: 1 }).waitFor();
  assert.equal(await page.getByLabel("Welcome message").inputValue(), "Hello from the console");
  assert.equal(
    await page.getByLabel("Allowed origins").inputValue(),
    "https://console-test.example\nhttps://www.console-test.example",
  );
});

test("documents uploaded by file input and by drag and drop reach Ready live", async () => {
  await page.getByRole("link", { name: "Knowledge" }).click();
  await page.getByText("No documents yet").waitFor();
  await page.evaluate(() => {
    window.__sameDocument = true; // gone if anything reloads the page
  });
  await page.setInputFiles("#document-files", {
    name: "guide.md",
    mimeType: "text/markdown",
    buffer: Buffer.from("# Returns\n\nThe console test shop takes returns within 45 days of delivery.\n"),
  });
  await page.evaluate(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["Shipping takes three working days to any address."], "shipping.txt", { type: "text/plain" }));
    document.querySelector("[data-drop]").dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  });
  for (const name of ["guide.md", "shipping.txt"]) {
    const row = page.locator("tr", { has: page.getByRole("link", { name }) });
    await row.and(page.locator('[data-status="READY"]')).waitFor({ timeout: 120_000 });
    await row.getByText("Ready").waitFor();
  }
  assert.equal(await page.evaluate(() => window.__sameDocument), true);
  assert.equal(await page.getByRole("button", { name: "Show more" }).isVisible(), false);
  await page.screenshot({ path: join(ARTIFACTS, "knowledge.png"), fullPage: true });
  await audit("knowledge");
});

test("a document is deleted after a confirmation", async () => {
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete shipping.txt" }).click();
  await page.getByRole("link", { name: "shipping.txt" }).waitFor({ state: "detached" });
  await page.reload();
  await page.getByRole("link", { name: "guide.md" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "shipping.txt" }).count(), 0);
});

test("a phone-sized screen never scrolls sideways", async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  for (const route of ["", "#/"]) {
    if (route) await page.goto(new URL(route, page.url()).href);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${route || "knowledge"}: ${width}px`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("a website is deleted once its domain is typed to confirm", async () => {
  await page.getByRole("link", { name: "Console test" }).click();
  await page.getByRole("button", { name: "Delete website…" }).click();
  const confirm = page.getByRole("button", { name: "Delete for good" });
  assert.equal(await confirm.isDisabled(), true);
  await audit("delete dialog");
  await page.getByLabel(`Type ${DOMAIN} to confirm`).fill(DOMAIN);
  await confirm.click();
  await page.getByText("No website yet").waitFor();
});

test("Supabase Auth's redirect fragment signs in too, and sign-out forgets the session", async () => {
  const context = await browser.newContext();
  const other = await context.newPage();
  const fragment = new URLSearchParams({ access_token: TOKEN, refresh_token: "r", expires_in: "3600", token_type: "bearer" });
  await other.goto(`${new URL("/console/", LINK).href}#${fragment}`);
  await other.getByRole("heading", { name: "Websites" }).waitFor();
  assert.equal(new URL(other.url()).hash, "");
  assert.ok(!other.url().includes(TOKEN));
  await other.getByRole("button", { name: "Sign out" }).click();
  await other.getByRole("heading", { name: "Sign in to askbase" }).waitFor();
  assert.equal(await other.evaluate(() => sessionStorage.length), 0);
  await context.close();
});

test("no console errors, no CSP violations, no serious or critical axe finding", () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(violations, []);
});
