// The owners' console: sign-in, then routes in the fragment (`#/`, `#/websites/ID`,
// `#/websites/ID/knowledge`), each a view built on the typed GraphQL documents.
import { Api, ApiError } from "./api";
import type { App } from "./app";
import { readable } from "./app";
import { clearSession, loadSession, saveSession, takeSignIn, type Session, type SignIn } from "./auth";
import { h, replace } from "./dom";
import { RedeemConsoleCodeDocument } from "./gql/graphql";
import { signInView } from "./views/signin";
import { websiteView } from "./views/website";
import { websitesView } from "./views/websites";

// Before anything else: a token in the address bar goes at once.
const signIn = takeSignIn(window.location, window.history);
const storage = window.sessionStorage;
let session: Session | null = loadSession(storage);
let expiry: number | undefined;

const main = document.getElementById("main") as HTMLElement;
const live = document.getElementById("live") as HTMLElement;
const account = document.getElementById("account") as HTMLElement;

const api = new Api({
  token: () => session?.accessToken ?? null,
  onUnauthenticated: () => {
    if (session) signOut("Your session has ended: sign in again.");
  },
});

const app: App = {
  api,
  notify(message, kind = "info") {
    replace(live, h("p", { class: kind === "error" ? "error" : "" }, message));
  },
  go(route) {
    window.location.hash = `#${route}`;
  },
};

let disposeView = (): void => undefined;

function startSession(next: Session): void {
  session = next;
  saveSession(storage, next);
  window.clearTimeout(expiry);
  expiry = window.setTimeout(() => signOut("Your session has expired: sign in again."), Math.max(0, next.expiresAt - Date.now()));
}

function signOut(message: string | null): void {
  session = null;
  clearSession(storage);
  window.clearTimeout(expiry);
  api.close();
  render(message);
}

function render(message: string | null = null): void {
  disposeView();
  disposeView = () => undefined;
  if (!session) {
    replace(account);
    replace(main, signInView(message));
    return;
  }
  const out = h("button", { type: "button", class: "secondary small" }, "Sign out");
  out.addEventListener("click", () => signOut("You are signed out."));
  replace(account, out);
  const route = window.location.hash.replace(/^#/, "") || "/";
  const match = /^\/websites\/([^/]+)(?:\/(knowledge))?$/.exec(route);
  if (match?.[1]) {
    disposeView = websiteView(app, decodeURIComponent(match[1]), match[2] === "knowledge" ? "knowledge" : "settings", main);
  } else {
    replace(main, websitesView(app));
  }
  main.focus();
}

async function accept(found: SignIn): Promise<void> {
  if (found.kind === "session") startSession(found.session);
  if (found.kind === "code") {
    replace(main, h("p", { class: "muted", "aria-busy": "true" }, "Signing in…"));
    try {
      const { redeemConsoleCode } = await api.request(RedeemConsoleCodeDocument, { code: found.code });
      startSession({ accessToken: redeemConsoleCode.accessToken, expiresAt: Date.parse(redeemConsoleCode.expiresAt) });
    } catch (error) {
      render(error instanceof ApiError ? error.message : readable(error));
      return;
    }
  } else if (found.kind === "none" && session) {
    startSession(session);
  }
  render(found.kind === "error" ? found.message : null);
}

window.addEventListener("hashchange", () => {
  const found = takeSignIn(window.location, window.history);
  if (found.kind === "none") render();
  else void accept(found);
});
void accept(signIn);
