import type { App } from "../app";
import { readable } from "../app";
import { field, formatDate, h, replace } from "../dom";
import { CreateWebsiteDocument, WebsitesDocument } from "../gql/graphql";

/** The owner's websites, and a form to create one. */
export function websitesView(app: App): HTMLElement {
  const list = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading websites…"));
  const domain = h("input", { name: "domain", required: true, autocomplete: "off", placeholder: "docs.example.com" });
  const name = h("input", { name: "name", autocomplete: "off", placeholder: "Optional" });
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "create-title" },
    h("h2", { id: "create-title" }, "New website"),
    field("Domain", domain, "The host name your pages are served from, without https:// or a path."),
    field("Name", name),
    problem,
    h("button", { type: "submit" }, "Create website"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    problem.hidden = true;
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    app.api
      .request(CreateWebsiteDocument, { input: { domain: domain.value.trim(), name: name.value.trim() || null } })
      .then(({ createWebsite }) => {
        app.notify(`Website ${createWebsite.name} created.`);
        app.go(`/websites/${createWebsite.id}`);
      })
      .catch((error: unknown) => {
        problem.textContent = readable(error);
        problem.hidden = false;
      })
      .finally(() => {
        if (button) button.disabled = false;
      });
  });

  app.api
    .request(WebsitesDocument, {})
    .then(({ websites }) => {
      list.removeAttribute("aria-busy");
      if (websites.length === 0) {
        replace(list, h("p", { class: "muted" }, "No website yet: create your first one below."));
        return;
      }
      replace(
        list,
        h(
          "ul",
          { class: "list" },
          ...websites.map((site) =>
            h(
              "li",
              {},
              h("a", { href: `#/websites/${site.id}` }, site.name),
              h("span", { class: "muted" }, ` ${site.domain} · created ${formatDate(site.createdAt)}`),
            ),
          ),
        ),
      );
    })
    .catch((error: unknown) => {
      list.removeAttribute("aria-busy");
      replace(list, h("p", { class: "error", role: "alert" }, readable(error)));
    });

  return h("section", { "aria-labelledby": "websites-title" }, h("h1", { id: "websites-title" }, "Websites"), list, form);
}
