import type { App } from "../app";
import { readable } from "../app";
import { h, replace } from "../dom";
import { WebsiteDocument } from "../gql/graphql";
import { knowledgeView } from "./knowledge";
import { settingsView } from "./settings";

export type Tab = "settings" | "knowledge";

/** One website: its name, the tabs, and the tab's view. Returns a disposer. */
export function websiteView(app: App, id: string, tab: Tab, root: HTMLElement): () => void {
  let dispose = (): void => undefined;
  replace(root, h("p", { class: "muted", "aria-busy": "true" }, "Loading the website…"));
  let stopped = false;
  app.api
    .request(WebsiteDocument, { id })
    .then(({ website }) => {
      if (stopped) return;
      if (!website) {
        replace(root, h("p", { class: "error", role: "alert" }, "This website does not exist, or is not yours."));
        return;
      }
      const tabLink = (name: Tab, label: string): HTMLElement =>
        h(
          "a",
          { href: `#/websites/${id}${name === "settings" ? "" : `/${name}`}`, "aria-current": tab === name ? "page" : null },
          label,
        );
      const body = h("div");
      replace(
        root,
        h("p", {}, h("a", { href: "#/" }, "← All websites")),
        h("h1", {}, website.name),
        h("p", { class: "muted" }, website.domain),
        h("nav", { class: "tabs", "aria-label": "Website" }, tabLink("settings", "Settings"), tabLink("knowledge", "Knowledge")),
        body,
      );
      if (tab === "knowledge") dispose = knowledgeView(app, website, body);
      else replace(body, settingsView(app, website));
    })
    .catch((error: unknown) => {
      if (!stopped) replace(root, h("p", { class: "error", role: "alert" }, readable(error)));
    });
  return () => {
    stopped = true;
    dispose();
  };
}
