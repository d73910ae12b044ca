import { h } from "../dom";

/** Shown while nobody is signed in: how to get a sign-in link. */
export function signInView(message: string | null): HTMLElement {
  return h(
    "section",
    { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h1", { id: "sign-in-title" }, "Sign in to askbase"),
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    h("p", {}, "On the server, run this command and open the link it prints (valid for 10 minutes, once):"),
    h("pre", {}, h("code", {}, "askbase console-link")),
    h("p", { class: "hint" }, "askbase serve also prints a sign-in link when it starts in development."),
  );
}
