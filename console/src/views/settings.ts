import type { App } from "../app";
import { readable } from "../app";
import { field, h } from "../dom";
import { DeleteWebsiteDocument, UpdateWebsiteDocument, type WebsiteFieldsFragment } from "../gql/graphql";
import { lines, parseOrigins } from "../validate";

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return intl.supportedValuesOf?.("timeZone") ?? [];
}

function themeColor(theme: unknown): string {
  const primary = (theme as Record<string, unknown> | null)?.["primary"];
  return typeof primary === "string" && /^#[0-9a-f]{6}$/i.test(primary) ? primary : "#0f766e";
}

/** A website's settings, saved together; and deleting it, after a confirmation. */
export function settingsView(app: App, website: WebsiteFieldsFragment): HTMLElement {
  const s = website.settings;
  const name = h("input", { name: "name", required: true, maxlength: 200, value: website.name });
  const origins = h("textarea", { name: "allowedOrigins", rows: 3 });
  origins.value = (s.allowedOrigins ?? []).join("\n");
  const originsError = h("p", { class: "error", role: "alert", hidden: true });
  const title = h("input", { name: "title", maxlength: 200, value: s.title });
  const welcome = h("textarea", { name: "welcomeMessage", rows: 2, maxlength: 1000 });
  welcome.value = s.welcomeMessage ?? "";
  const questions = h("textarea", { name: "suggestedQuestions", rows: 3 });
  questions.value = s.suggestedQuestions.join("\n");
  const prompt = h("textarea", { name: "systemPrompt", rows: 5, maxlength: 8000 });
  prompt.value = s.systemPrompt ?? "";
  const model = h("input", { name: "model", maxlength: 100, value: s.model ?? "", placeholder: "The server's default" });
  const temperature = h("input", {
    name: "temperature",
    type: "number",
    min: 0,
    max: 2,
    step: 0.1,
    value: s.temperature ?? "",
    placeholder: "Default",
  });
  const color = h("input", { name: "primaryColor", type: "color", value: themeColor(s.theme) });
  const zone = h("input", { name: "timeZone", list: "time-zones", value: s.timeZone, autocomplete: "off" });
  const zones = h("datalist", { id: "time-zones" }, ...timeZones().map((value) => h("option", { value })));
  const retention = h("input", {
    name: "retentionDays",
    type: "number",
    min: 1,
    step: 1,
    value: s.retentionDays ?? "",
    placeholder: "Keep chats",
  });
  const status = h("p", { role: "status", class: "muted" });
  const save = h("button", { type: "submit" }, "Save settings");

  const form = h(
    "form",
    { class: "card", "aria-labelledby": "settings-title" },
    h("h2", { id: "settings-title" }, "Settings"),
    field("Name", name),
    field("Allowed origins", origins, "One a line, like https://shop.example, or * for any; the widget works only on these pages."),
    originsError,
    field("Widget title", title),
    field("Welcome message", welcome),
    field("Suggested questions", questions, "One a line, at most 10."),
    field("System prompt", prompt, "Instructions for the model; empty: the built-in prompt."),
    field("Model", model),
    field("Temperature", temperature, "0 to 2; empty: the default."),
    field("Widget color", color),
    field("Time zone", zone, "An IANA name like Europe/Berlin: activity by day follows it."),
    zones,
    field("Delete chats after (days)", retention, "Empty: chats are kept."),
    status,
    save,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const parsed = parseOrigins(origins.value);
    if ("error" in parsed) {
      originsError.textContent = parsed.error;
      originsError.hidden = false;
      origins.setAttribute("aria-invalid", "true");
      origins.focus();
      return;
    }
    originsError.hidden = true;
    origins.removeAttribute("aria-invalid");
    const theme = { ...((s.theme as Record<string, unknown> | null) ?? {}), primary: color.value };
    save.disabled = true;
    status.textContent = "Saving…";
    app.api
      .request(UpdateWebsiteDocument, {
        id: website.id,
        input: {
          name: name.value.trim(),
          allowedOrigins: parsed.origins,
          title: title.value.trim() || null,
          welcomeMessage: welcome.value.trim() || null,
          suggestedQuestions: lines(questions.value),
          systemPrompt: prompt.value.trim() || null,
          model: model.value.trim() || null,
          temperature: temperature.value === "" ? null : Number(temperature.value),
          theme,
          timeZone: zone.value.trim() || null,
          retentionDays: retention.value === "" ? null : Number(retention.value),
        },
      })
      .then(({ updateWebsite }) => {
        Object.assign(website, updateWebsite);
        status.textContent = "Saved.";
        app.notify("Settings saved.");
      })
      .catch((error: unknown) => {
        status.textContent = "";
        app.notify(readable(error), "error");
      })
      .finally(() => {
        save.disabled = false;
      });
  });

  return h("div", {}, form, deleteSection(app, website));
}

function deleteSection(app: App, website: WebsiteFieldsFragment): HTMLElement {
  const confirmation = h("input", { name: "confirmDomain", autocomplete: "off" });
  const confirm = h("button", { type: "submit", class: "danger", disabled: true }, "Delete for good");
  confirmation.addEventListener("input", () => {
    confirm.disabled = confirmation.value.trim() !== website.domain;
  });
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const dialog = h(
    "dialog",
    { "aria-labelledby": "delete-title" },
    h(
      "form",
      { method: "dialog" },
      h("h2", { id: "delete-title" }, `Delete ${website.name}?`),
      h("p", {}, "Its chats, documents and sources are deleted with it. This cannot be undone."),
      field(`Type ${website.domain} to confirm`, confirmation),
      h("div", { class: "actions" }, cancel, confirm),
    ),
  );
  cancel.addEventListener("click", () => dialog.close());
  dialog.querySelector("form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    confirm.disabled = true;
    app.api
      .request(DeleteWebsiteDocument, { id: website.id })
      .then(() => {
        dialog.close();
        app.notify(`Website ${website.name} deleted.`);
        app.go("/");
      })
      .catch((error: unknown) => {
        confirm.disabled = false;
        app.notify(readable(error), "error");
      });
  });
  const open = h("button", { type: "button", class: "danger" }, "Delete website…");
  open.addEventListener("click", () => {
    confirmation.value = "";
    confirm.disabled = true;
    dialog.showModal();
  });
  return h(
    "section",
    { class: "card", "aria-labelledby": "danger-title" },
    h("h2", { id: "danger-title" }, "Delete this website"),
    open,
    dialog,
  );
}
