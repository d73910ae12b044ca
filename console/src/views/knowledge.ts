import type { App } from "../app";
import { readable } from "../app";
import { formatBytes, formatDate, h, replace } from "../dom";
import {
  DeleteDocumentDocument,
  DocumentStatusDocument,
  DocumentsDocument,
  UploadDocumentDocument,
  type DocumentFieldsFragment,
  type WebsiteFieldsFragment,
} from "../gql/graphql";

const PAGE = 50;
const ACCEPT = ".pdf,.docx,.html,.htm,.md,.markdown,.txt,text/plain,text/markdown,text/html,application/pdf";
const STATUS_TEXT: Record<DocumentFieldsFragment["status"], string> = {
  PENDING: "Waiting",
  PROCESSING: "Processing",
  READY: "Ready",
  FAILED: "Failed",
};

/** Documents: upload (drop or pick files), live status, download, delete. Returns a disposer. */
export function knowledgeView(app: App, website: WebsiteFieldsFragment, root: HTMLElement): () => void {
  const rows = new Map<string, HTMLElement>();
  const live = new Map<string, () => void>();
  const body = h("tbody");
  const table = h(
    "table",
    { class: "documents" },
    h("caption", { class: "visually-hidden" }, "Documents"),
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "File"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Size"), h("th", { scope: "col" }, "Added"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions"))),
    ),
    body,
  );
  const empty = h("p", { class: "muted" }, "No documents yet: drop files above, or choose them.");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const listState = h("p", { class: "muted", "aria-busy": "true" }, "Loading documents…");
  let cursor: string | null = null;

  function watch(doc: DocumentFieldsFragment): void {
    if (doc.status === "READY" || doc.status === "FAILED" || live.has(doc.id)) return;
    const stop = app.api.subscribe(
      DocumentStatusDocument,
      { documentId: doc.id },
      ({ documentStatus }) => show(documentStatus),
      (error) => app.notify(`${doc.filename}: ${error.readable}`, "error"),
    );
    live.set(doc.id, stop);
  }

  function show(doc: DocumentFieldsFragment, first = false): void {
    const status = h(
      "td",
      {},
      h("span", { class: `status status-${doc.status.toLowerCase()}` }, STATUS_TEXT[doc.status]),
      doc.status === "READY" ? h("span", { class: "muted" }, ` · ${doc.chunkCount} ${doc.chunkCount === 1 ? "passage" : "passages"}`) : null,
      doc.error ? h("p", { class: "error" }, doc.error) : null,
    );
    const remove = h("button", { type: "button", class: "secondary small", "aria-label": `Delete ${doc.filename}` }, "Delete");
    remove.addEventListener("click", () => {
      if (!window.confirm(`Delete ${doc.filename}? Answers will no longer cite it.`)) return;
      remove.disabled = true;
      app.api
        .request(DeleteDocumentDocument, { id: doc.id })
        .then(() => {
          live.get(doc.id)?.();
          live.delete(doc.id);
          rows.get(doc.id)?.remove();
          rows.delete(doc.id);
          empty.hidden = rows.size > 0;
          app.notify(`${doc.filename} deleted.`);
        })
        .catch((error: unknown) => {
          remove.disabled = false;
          app.notify(readable(error), "error");
        });
    });
    const row = h(
      "tr",
      { "data-document": doc.id, "data-status": doc.status },
      h("th", { scope: "row" }, h("a", { href: doc.downloadUrl, download: doc.filename }, doc.filename)),
      status,
      h("td", {}, formatBytes(doc.sizeBytes)),
      h("td", {}, formatDate(doc.createdAt)),
      h("td", {}, remove),
    );
    const existing = rows.get(doc.id);
    if (existing) existing.replaceWith(row);
    else if (first) body.prepend(row);
    else body.append(row);
    rows.set(doc.id, row);
    empty.hidden = rows.size > 0;
    if (doc.status === "READY" || doc.status === "FAILED") {
      live.get(doc.id)?.();
      live.delete(doc.id);
    } else {
      watch(doc);
    }
  }

  function load(): void {
    more.hidden = true;
    app.api
      .request(DocumentsDocument, { websiteId: website.id, first: PAGE, after: cursor })
      .then(({ documents }) => {
        listState.hidden = true;
        for (const doc of documents.nodes) show(doc);
        cursor = documents.pageInfo.endCursor ?? null;
        more.hidden = !documents.pageInfo.hasNextPage;
        empty.hidden = rows.size > 0;
      })
      .catch((error: unknown) => {
        listState.removeAttribute("aria-busy");
        listState.className = "error";
        listState.setAttribute("role", "alert");
        listState.textContent = readable(error);
      });
  }
  more.addEventListener("click", load);

  function upload(files: Iterable<File>): void {
    for (const file of files) {
      app.notify(`Uploading ${file.name}…`);
      app.api
        .upload(UploadDocumentDocument, { websiteId: website.id, file })
        .then(({ uploadDocument }) => {
          show(uploadDocument, true);
          app.notify(`${file.name} uploaded.`);
        })
        .catch((error: unknown) => app.notify(`${file.name}: ${readable(error)}`, "error"));
    }
  }

  const input = h("input", { type: "file", multiple: true, accept: ACCEPT, id: "document-files", class: "visually-hidden" });
  input.addEventListener("change", () => {
    if (input.files) upload(Array.from(input.files));
    input.value = "";
  });
  const drop = h(
    "div",
    { class: "drop", "data-drop": "documents" },
    h("p", {}, "Drop files here (PDF, DOCX, HTML, Markdown, text), or "),
    h("label", { for: "document-files", class: "button" }, "choose files"),
    input,
  );
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer?.files.length) upload(Array.from(event.dataTransfer.files));
  });

  empty.hidden = true;
  replace(
    root,
    h("section", { class: "card", "aria-labelledby": "documents-title" }, h("h2", { id: "documents-title" }, "Documents"), drop, listState, empty, table, more),
  );
  load();
  return () => {
    for (const stop of live.values()) stop();
    live.clear();
  };
}
