// Signing in. Whatever the mode, a sign-in arrives in the address's fragment, which is
// removed from the address bar before anything else happens:
// - `#code=…`: a one-time code from `askbase console-link` (or the link `askbase serve`
//   prints), exchanged for an owner token through redeemConsoleCode;
// - `#access_token=…&refresh_token=…&expires_in=…`: Supabase Auth's redirect.
// The session lives in sessionStorage (this tab only, gone when it closes), never in
// localStorage or cookies.

const KEY = "askbase.console.session";

export interface Session {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  refreshToken?: string;
}

export type SignIn =
  | { kind: "code"; code: string }
  | { kind: "session"; session: Session }
  | { kind: "error"; message: string }
  | { kind: "none" };

/** Reads and removes a sign-in from the address's fragment (history.replaceState). */
export function takeSignIn(location: Location, history: History): SignIn {
  const fragment = location.hash.replace(/^#/, "");
  if (fragment.startsWith("/") || fragment === "") return { kind: "none" };
  const params = new URLSearchParams(fragment);
  const known = ["code", "access_token", "error", "error_description"].some((name) => params.has(name));
  if (!known) return { kind: "none" };
  history.replaceState(null, "", location.pathname + location.search);
  const code = params.get("code");
  const accessToken = params.get("access_token");
  if (code) return { kind: "code", code };
  if (accessToken) {
    const seconds = Number(params.get("expires_in") ?? "3600");
    const session: Session = {
      accessToken,
      expiresAt: Date.now() + (Number.isFinite(seconds) ? seconds : 3600) * 1000,
    };
    const refreshToken = params.get("refresh_token");
    if (refreshToken) session.refreshToken = refreshToken;
    return { kind: "session", session };
  }
  return { kind: "error", message: params.get("error_description") ?? params.get("error") ?? "Sign-in failed." };
}

export function loadSession(storage: Storage): Session | null {
  try {
    const stored = JSON.parse(storage.getItem(KEY) ?? "null") as Session | null;
    if (stored && typeof stored.accessToken === "string" && stored.expiresAt > Date.now()) return stored;
  } catch {
    // a damaged entry is as good as none
  }
  storage.removeItem(KEY);
  return null;
}

export function saveSession(storage: Storage, session: Session): void {
  storage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(storage: Storage): void {
  storage.removeItem(KEY);
}
