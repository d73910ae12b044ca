/*! askbase chat widget: one script tag, no dependencies. See WIDGET_INTEGRATION.md. */
(() => {
  "use strict";

  // The widget's GraphQL documents: widget/operations.json, filled in by the server that
  // serves this file (they are trusted documents: see TRUSTED_DOCUMENTS in the docs).
  const OPS = __ASKBASE_OPERATIONS__;

  const STRINGS = {
    en: {
      open: "Open chat", close: "Close chat", title: "Ask us", placeholder: "Ask a question…",
      input: "Your question", send: "Send", stop: "Stop answer", sources: "Sources",
      typing: "The assistant is typing", retry: "Retry", you: "You", assistant: "Assistant",
      stopped: "Stopped.", interrupted: "This answer was interrupted.",
      failed: "Something went wrong. Please try again.",
      offline: "Cannot reach the assistant. Check your connection and retry.",
      limited: "Too many questions at once. Try again in {s} s.",
      busy: "The assistant is busy. Trying again…",
      conversation: "Conversation", suggestions: "Suggested questions", newChat: "New conversation",
      rate: "Rate this answer", up: "Helpful", down: "Not helpful", comment: "What was missing? (optional)",
      sendComment: "Send feedback", thanks: "Thanks for your feedback.",
      human: "Talk to a person", asked: "We told the team: a person will reply here.",
      withTeam: "You are chatting with the team.", team: "{title} team",
    },
    de: {
      open: "Chat öffnen", close: "Chat schließen", title: "Fragen Sie uns",
      placeholder: "Stellen Sie eine Frage…", input: "Ihre Frage", send: "Senden",
      stop: "Antwort stoppen", sources: "Quellen", typing: "Der Assistent schreibt",
      retry: "Erneut versuchen", you: "Sie", assistant: "Assistent", stopped: "Gestoppt.",
      interrupted: "Diese Antwort wurde unterbrochen.",
      failed: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
      offline: "Der Assistent ist nicht erreichbar. Prüfen Sie Ihre Verbindung.",
      limited: "Zu viele Fragen auf einmal. Bitte in {s} s erneut versuchen.",
      busy: "Der Assistent ist ausgelastet. Neuer Versuch…",
      conversation: "Unterhaltung", suggestions: "Vorgeschlagene Fragen",
      newChat: "Neue Unterhaltung", rate: "Antwort bewerten", up: "Hilfreich", down: "Nicht hilfreich",
      comment: "Was hat gefehlt? (optional)", sendComment: "Feedback senden", thanks: "Danke für Ihr Feedback.",
      human: "Mit einer Person sprechen", asked: "Das Team ist informiert und antwortet hier.",
      withTeam: "Sie schreiben mit dem Team.", team: "Team von {title}",
    },
    fr: {
      open: "Ouvrir le chat", close: "Fermer le chat", title: "Posez-nous une question",
      placeholder: "Posez une question…", input: "Votre question", send: "Envoyer",
      stop: "Arrêter la réponse", sources: "Sources", typing: "L’assistant écrit",
      retry: "Réessayer", you: "Vous", assistant: "Assistant", stopped: "Arrêté.",
      interrupted: "Cette réponse a été interrompue.",
      failed: "Une erreur est survenue. Veuillez réessayer.",
      offline: "Impossible de joindre l’assistant. Vérifiez votre connexion.",
      limited: "Trop de questions à la fois. Réessayez dans {s} s.",
      busy: "L'assistant est occupé. Nouvel essai…",
      conversation: "Conversation", suggestions: "Questions suggérées",
      newChat: "Nouvelle conversation", rate: "Évaluer cette réponse", up: "Utile", down: "Pas utile",
      comment: "Que manquait-il ? (facultatif)", sendComment: "Envoyer l’avis", thanks: "Merci pour votre avis.",
      human: "Parler à une personne", asked: "L’équipe est prévenue et répondra ici.",
      withTeam: "Vous discutez avec l’équipe.", team: "Équipe {title}",
    },
  };

  /** A GraphQL error, or a transport failure (code NETWORK). */
  class GraphQLError extends Error {
    constructor(message, code, retryAfter) {
      super(message);
      this.code = code || "INTERNAL";
      this.retryAfter = retryAfter || 0;
    }

    static from(errors) {
      const first = (errors && errors[0]) || {};
      const ext = first.extensions || {};
      return new GraphQLError(first.message || "Error", ext.code, ext.retryAfter);
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * Queries and mutations over HTTP POST; subscriptions over one lazily opened WebSocket
   * speaking graphql-transport-ws (connection_init with the token, ping/pong, complete on
   * stop), reconnecting with exponential backoff and jitter.
   */
  class GraphQLClient {
    constructor(apiBase, getToken) {
      this.httpUrl = apiBase + "/graphql";
      this.wsUrl = apiBase.replace(/^http/, "ws") + "/graphql";
      this.getToken = getToken;
      this.socket = null;
      this.ready = null;
      this.sinks = new Map();
      this.nextId = 1;
      this.idleTimer = 0;
    }

    async request(query, variables, token) {
      const headers = { "content-type": "application/json" };
      if (token) headers.authorization = "Bearer " + token;
      let body;
      try {
        const response = await fetch(this.httpUrl, {
          method: "POST", headers, body: JSON.stringify({ query, variables }),
        });
        body = await response.json();
      } catch (error) {
        throw new GraphQLError(String(error && error.message), "NETWORK");
      }
      if (body.errors && body.errors.length) throw GraphQLError.from(body.errors);
      return body.data;
    }

    /** Resolves once connection_ack arrives; retries the connection with backoff. */
    connect() {
      clearTimeout(this.idleTimer);
      if (this.ready) return this.ready;
      this.ready = (async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await this.open(await this.getToken());
          } catch (error) {
            if (error.code !== "NETWORK" || attempt >= 4) {
              this.ready = null;
              throw error;
            }
            await sleep(Math.min(8000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2));
          }
        }
      })();
      return this.ready;
    }

    open(token) {
      return new Promise((resolve, reject) => {
        const socket = new WebSocket(this.wsUrl, "graphql-transport-ws");
        let acked = false;
        const timer = setTimeout(() => socket.close(4408, "Connection initialisation timeout"), 10000);
        const send = (message) => socket.send(JSON.stringify(message));
        socket.onopen = () => send({ type: "connection_init", payload: { authorization: "Bearer " + token } });
        socket.onmessage = (event) => {
          let message;
          try {
            message = JSON.parse(event.data);
          } catch {
            return socket.close(4400, "Invalid message");
          }
          const sink = this.sinks.get(message.id);
          switch (message.type) {
            case "connection_ack":
              acked = true;
              clearTimeout(timer);
              this.socket = socket;
              resolve(socket);
              break;
            case "ping":
              send({ type: "pong" });
              break;
            case "next":
              if (sink) sink.next(message.payload);
              break;
            case "error":
              if (sink) this.finish(message.id).error(GraphQLError.from(message.payload));
              break;
            case "complete":
              if (sink) this.finish(message.id).complete();
              break;
          }
        };
        socket.onclose = (event) => {
          clearTimeout(timer);
          if (this.socket === socket) this.socket = null;
          this.ready = null;
          const refused = event.code === 4403 || event.code === 4401;
          const error = refused
            ? new GraphQLError("Your session has ended.", "UNAUTHENTICATED")
            : new GraphQLError("The connection was lost.", "NETWORK");
          if (!acked) return reject(error);
          for (const id of [...this.sinks.keys()]) this.finish(id).error(error);
        };
      });
    }

    finish(id) {
      const sink = this.sinks.get(id);
      this.sinks.delete(id);
      if (!this.sinks.size) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => this.close(), 30000);
      }
      return sink;
    }

    /** Starts a subscription; `sink` gets next(payload), error(GraphQLError), complete().
     * Returns a function that stops it (sends `complete`). */
    subscribe(query, variables, sink) {
      const id = String(this.nextId++);
      let stopped = false;
      this.connect().then(
        (socket) => {
          if (stopped) return;
          this.sinks.set(id, sink);
          socket.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
        },
        (error) => stopped || sink.error(error),
      );
      return () => {
        if (stopped) return;
        stopped = true;
        if (this.sinks.has(id)) {
          this.finish(id);
          if (this.socket) this.socket.send(JSON.stringify({ id, type: "complete" }));
        }
      };
    }

    close() {
      if (this.socket && !this.sinks.size) this.socket.close(1000, "Normal Closure");
    }
  }

  /* ---------- safe markdown: every node built with textContent, no HTML parsing ---------- */

  const INLINE = /(`[^`\n]+`)|\*\*(\S[^*\n]*?)\*\*|(?<![\w*])\*([^*\s][^*\n]*?)\*(?![\w*])|\[([^\]\n]+)\]\(((?:https?:\/\/|mailto:)[^\s()]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|\[(\d{1,2})\]/g;

  function inline(parent, text) {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.append(text.slice(last, m.index));
      last = m.index + m[0].length;
      if (m[1]) parent.append(el("code", null, m[1].slice(1, -1)));
      else if (m[2]) parent.append(el("strong", null, m[2]));
      else if (m[3]) parent.append(el("em", null, m[3]));
      else if (m[4] || m[6]) parent.append(link(m[5] || m[6], m[4] || m[6]));
      else parent.append(el("sup", { class: "cite" }, "[" + m[7] + "]"));
    }
    if (last < text.length) parent.append(text.slice(last));
    return parent;
  }

  const link = (href, text) => el("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, text);

  function markdown(source) {
    const root = document.createDocumentFragment();
    const lines = source.replace(/\r\n?/g, "\n").split("\n");
    let para = null;
    let list = null;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (/^\s*```/.test(line)) {
        const code = [];
        while (++i < lines.length && !/^\s*```/.test(lines[i])) code.push(lines[i]);
        root.append(el("pre", null, el("code", null, code.join("\n"))));
        para = list = null;
        continue;
      }
      const item = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/.exec(line);
      if (item) {
        const tag = item[1] ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) root.append((list = el(tag)));
        list.append(inline(el("li"), item[3]));
        para = null;
        continue;
      }
      if (!line.trim()) {
        para = list = null;
        continue;
      }
      const heading = /^#{1,6}\s+(.*)$/.exec(line);
      if (heading) {
        root.append(inline(el("p", { class: "heading" }), heading[1]));
        para = list = null;
        continue;
      }
      const text = line.replace(/^>\s?/, "");
      if (para) para.append(el("br"));
      else root.append((para = el("p")));
      inline(para, text);
      list = null;
    }
    return root;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== false && value != null) node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.filter((c) => c != null));
    return node;
  }

  /* ---------------------------------------- styles ---------------------------------------- */

  const CSS = `
:host{all:initial;--ab-primary:#2563eb;--ab-on-primary:#fff;--ab-bg:#fff;--ab-surface:#f1f5f9;
--ab-text:#0f172a;--ab-muted:#475569;--ab-border:#cbd5e1;--ab-radius:14px;--ab-error:#b91c1c;
--ab-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;--ab-z:2147483000}
@media (prefers-color-scheme:dark){:host{--ab-bg:#0f172a;--ab-surface:#1e293b;--ab-text:#f1f5f9;
--ab-muted:#cbd5e1;--ab-border:#334155;--ab-error:#fca5a5}}
*{box-sizing:border-box}
.root{position:fixed;bottom:20px;right:20px;z-index:var(--ab-z);font:15px/1.5 var(--ab-font);color:var(--ab-text);
letter-spacing:normal;word-spacing:normal;text-transform:none;text-indent:0;text-align:start;text-shadow:none;
white-space:normal;word-break:normal;overflow-wrap:normal;hyphens:manual;tab-size:8;font-feature-settings:normal;
font-variation-settings:normal;font-kerning:auto;text-rendering:auto;visibility:visible;cursor:auto;
writing-mode:horizontal-tb;text-orientation:mixed;quotes:auto;list-style:disc outside;-webkit-text-fill-color:currentColor;
-webkit-text-stroke:0;text-underline-offset:auto;text-decoration-thickness:auto;font-synthesis:weight style;
border-collapse:separate;border-spacing:0;caption-side:top;empty-cells:show;orphans:2;widows:2}
.root.left{right:auto;left:20px}
button{font:inherit;cursor:pointer}
:focus-visible{outline:3px solid var(--ab-primary);outline-offset:2px}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--ab-primary);color:var(--ab-on-primary);
box-shadow:0 4px 14px rgba(0,0,0,.25);display:grid;place-items:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:26px;height:26px;fill:currentColor}
.panel{position:absolute;bottom:72px;right:0;width:380px;height:min(600px,calc(100vh - 110px));display:flex;
flex-direction:column;background:var(--ab-bg);border:1px solid var(--ab-border);border-radius:var(--ab-radius);
box-shadow:0 12px 40px rgba(0,0,0,.25);overflow:hidden;animation:ab-in .18s ease-out}
.left .panel{right:auto;left:0}
.panel[hidden]{display:none}
@keyframes ab-in{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}
header{display:flex;align-items:center;gap:8px;padding:12px 14px;background:var(--ab-primary);color:var(--ab-on-primary)}
header h2{flex:1;margin:0;font-size:16px;font-weight:600}
.icon{background:transparent;border:0;color:inherit;width:32px;height:32px;border-radius:8px;display:grid;place-items:center}
.icon svg{width:18px;height:18px;fill:currentColor}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px}
.msg{max-width:88%;padding:9px 12px;border-radius:var(--ab-radius);overflow-wrap:anywhere}
.msg p{margin:0 0 6px}.msg p:last-child{margin:0}.msg ul,.msg ol{margin:4px 0;padding-left:20px}
.msg pre{margin:6px 0;padding:8px;border-radius:8px;background:rgba(0,0,0,.08);overflow-x:auto;font-size:13px}
.msg code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.msg a{color:inherit;text-decoration:underline}
.heading{font-weight:600}
.cite{font-size:.75em;color:var(--ab-muted)}
.user{align-self:flex-end;background:var(--ab-primary);color:var(--ab-on-primary);white-space:pre-wrap}
.assistant{align-self:flex-start;background:var(--ab-surface)}
.note{font-size:13px;color:var(--ab-muted);margin-top:4px}
.error{color:var(--ab-error)}
.sources{margin-top:8px;font-size:13px;border-top:1px solid var(--ab-border);padding-top:6px}
.sources ol{margin:2px 0 0;padding-left:20px}
.sources li{color:var(--ab-muted)}
.sources details summary{cursor:pointer;color:var(--ab-text)}
.typing{display:inline-flex;gap:4px;padding:4px 0}
.typing span{width:7px;height:7px;border-radius:50%;background:var(--ab-muted);animation:ab-dot 1s infinite ease-in-out}
.typing span:nth-child(2){animation-delay:.15s}.typing span:nth-child(3){animation-delay:.3s}
@keyframes ab-dot{0%,80%,100%{opacity:.3}40%{opacity:1}}
.suggestions{display:flex;flex-wrap:wrap;gap:6px}
.chip{border:1px solid var(--ab-primary);background:transparent;color:var(--ab-text);border-radius:999px;padding:5px 11px;font-size:13px;text-align:left}
.chip:hover{background:var(--ab-surface)}
.retry,.human{margin-top:6px;border:1px solid var(--ab-border);background:var(--ab-bg);color:var(--ab-text);border-radius:8px;padding:3px 10px;font-size:13px}
.team{align-self:flex-start;background:var(--ab-surface);border-left:3px solid var(--ab-primary)}
.who{font-size:12px;font-weight:600;color:var(--ab-muted)}
.handoff{display:flex;align-items:center;gap:8px;padding:0 10px}.handoff .note{margin:6px 0 0}
.retry:disabled{opacity:.6;cursor:default}
.rate{display:flex;flex-wrap:wrap;gap:4px;margin-top:6px;align-items:center}
.rate>button{border:1px solid var(--ab-border);background:var(--ab-bg);color:var(--ab-muted);border-radius:8px;padding:3px 8px;display:grid}
.rate svg{width:15px;height:15px;fill:currentColor}.rate .DOWN svg{transform:rotate(180deg)}
.rate>button[aria-pressed=true]{border-color:var(--ab-primary);background:var(--ab-primary);color:var(--ab-on-primary)}
.rate form{width:100%;padding:4px 0 0;border:0}
.rate input{flex:1;min-width:0;padding:5px 8px;border:1px solid var(--ab-border);border-radius:8px;font:inherit;font-size:13px;color:var(--ab-text);background:var(--ab-bg)}
form{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid var(--ab-border)}
textarea{flex:1;resize:none;max-height:120px;min-height:42px;padding:10px;border:1px solid var(--ab-border);border-radius:10px;
font:inherit;color:var(--ab-text);background:var(--ab-bg)}
.send{height:42px;min-width:42px;border:0;border-radius:10px;background:var(--ab-primary);color:var(--ab-on-primary);display:grid;place-items:center}
.send svg{width:18px;height:18px;fill:currentColor}
.send:disabled{opacity:.5;cursor:default}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.root.open{inset:0}.root.open .launcher{display:none}
.panel{position:fixed;inset:0;width:auto;height:auto;border-radius:0;border:0}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
`;

  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-5 4V6a2 2 0 0 1 2-2z",
    close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z",
    send: "M3 20.5 21 12 3 3.5v6.6l12 1.9-12 1.9z",
    stop: "M6 6h12v12H6z",
    reset: "M12 5V2L7 6l5 4V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z",
    thumb: "M1 21h4V9H1zm22-11a2 2 0 0 0-2-2h-6.3l1-4.9L14.2 1 7.6 7.6A2 2 0 0 0 7 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1.2-.7z",
  };
  const icon = (name) => {
    const span = document.createElement("span");
    span.setAttribute("aria-hidden", "true");
    span.innerHTML = `<svg viewBox="0 0 24 24"><path d="${ICONS[name]}"/></svg>`; // constant markup
    return span.firstChild;
  };

  const THEME_VARS = {
    primary: "--ab-primary", onPrimary: "--ab-on-primary", background: "--ab-bg",
    surface: "--ab-surface", text: "--ab-text", muted: "--ab-muted", border: "--ab-border",
    radius: "--ab-radius", font: "--ab-font", zIndex: "--ab-z",
  };

  /* ---------------------------------------- widget ---------------------------------------- */

  class ChatWidget {
    constructor(options) {
      this.options = options;
      const lang = String(options.locale || navigator.language || "en").slice(0, 2).toLowerCase();
      this.t = Object.assign({}, STRINGS.en, STRINGS[lang] || {}, options.strings || {});
      this.storageKey = "askbase:" + options.websiteId;
      this.saved = this.load();
      this.client = new GraphQLClient(options.apiBase, () => this.token());
      this.settings = null;
      this.streaming = null;
      this.restored = null;
      this.build();
    }

    /* ----- persistence and session ----- */

    load() {
      try {
        return JSON.parse(localStorage.getItem(this.storageKey) || "{}") || {};
      } catch {
        return {};
      }
    }

    save(patch) {
      Object.assign(this.saved, patch);
      try {
        localStorage.setItem(this.storageKey, JSON.stringify(this.saved));
      } catch {
        /* storage may be disabled: the conversation then lasts as long as the page */
      }
    }

    /** A valid visitor token: the stored one, renewed (same visitor) when half of its
     * lifetime is gone, or a new session when there is none or it has expired. */
    async token() {
      const { token, expiresAt, issuedAt } = this.saved;
      const now = Date.now();
      const expires = expiresAt ? Date.parse(expiresAt) : 0;
      if (token && expires - now > (expires - (issuedAt || now)) / 2) return token;
      const stillValid = token && expires - now > 5000;
      let data;
      try {
        data = await this.client.request(OPS.session, { w: this.options.websiteId }, stillValid ? token : null);
      } catch (error) {
        if (!stillValid || error.code === "NETWORK") throw error;
        data = await this.client.request(OPS.session, { w: this.options.websiteId }, null);
      }
      const session = data.startSession;
      if (session.visitorId !== this.saved.visitorId) this.saved.chatId = null; // new visitor
      this.save({ token: session.token, expiresAt: session.expiresAt, issuedAt: now, visitorId: session.visitorId });
      this.applySettings(session.website.settings);
      return session.token;
    }

    async chatId() {
      if (!this.saved.chatId) {
        const token = await this.token();
        const data = await this.client.request(OPS.chat, { w: this.options.websiteId }, token);
        this.save({ chatId: data.createChat.id });
        this.watch();
      }
      return this.saved.chatId;
    }

    /* ----- DOM ----- */

    build() {
      const o = this.options;
      const t = this.t;
      this.host = el("div", { "data-askbase-widget": "" });
      const shadow = this.host.attachShadow({ mode: "open" });
      this.shadow = shadow;
      try { // a constructed sheet needs no 'unsafe-inline' in the page's style-src
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
        shadow.adoptedStyleSheets = [sheet];
      } catch {
        shadow.append(el("style", null, CSS));
      }
      this.root = el("div", { class: "root" + (o.position === "bottom-left" ? " left" : "") });
      this.applyTheme({});
      this.launcher = el("button", {
        class: "launcher", type: "button", "aria-label": t.open, "aria-expanded": "false",
        "aria-controls": "ab-panel", "aria-haspopup": "dialog",
      }, icon("chat"));
      this.heading = el("h2", { id: "ab-title" }, o.title || t.title);
      this.resetButton = el("button", { class: "icon", type: "button", "aria-label": t.newChat, title: t.newChat }, icon("reset"));
      this.closeButton = el("button", { class: "icon", type: "button", "aria-label": t.close }, icon("close"));
      this.log = el("div", { class: "log", role: "log", "aria-live": "off", "aria-label": t.conversation, tabindex: "0" });
      this.live = el("div", { class: "sr", "aria-live": "polite", "aria-atomic": "true" });
      this.input = el("textarea", { rows: "1", placeholder: t.placeholder, "aria-label": t.input, maxlength: "4000" });
      this.sendButton = el("button", { class: "send", type: "submit", "aria-label": t.send }, icon("send"));
      this.form = el("form", null, this.input, this.sendButton);
      this.humanButton = el("button", { class: "human", type: "button" }, t.human);
      this.handoffNote = el("span", { class: "note" });
      this.humanButton.addEventListener("click", () => this.requestHuman());
      this.humanButton.hidden = o.handoff === false;
      this.panel = el("div", {
        class: "panel", id: "ab-panel", role: "dialog", "aria-modal": "false",
        "aria-labelledby": "ab-title", hidden: true,
      }, el("header", null, this.heading, this.resetButton, this.closeButton), this.log, this.live,
      el("div", { class: "handoff" }, this.humanButton, this.handoffNote), this.form);
      this.root.append(this.panel, this.launcher);
      shadow.append(this.root);

      this.launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
      this.closeButton.addEventListener("click", () => this.close());
      this.resetButton.addEventListener("click", () => this.newConversation());
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        if (this.streaming) return this.stop();
        this.ask(this.input.value);
      });
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (!this.streaming) this.ask(this.input.value);
        }
      });
      this.input.addEventListener("input", () => this.autosize());
      this.panel.addEventListener("keydown", (event) => this.onKey(event));
      (document.body || document.documentElement).append(this.host);
    }

    applyTheme(theme) {
      const merged = Object.assign({}, theme, this.options.theme || {});
      for (const [key, name] of Object.entries(THEME_VARS)) {
        const value = merged[key];
        if (value == null || value === "") continue;
        const css = typeof value === "number" && key === "radius" ? value + "px" : String(value);
        this.host.style.setProperty(name, css);
      }
    }

    applySettings(settings) {
      this.settings = settings;
      this.applyTheme(settings.theme || {});
      if (!this.options.title && settings.title) this.heading.textContent = settings.title;
    }

    isOpen() {
      return !this.panel.hidden;
    }

    async open() {
      this.panel.hidden = false;
      this.root.classList.add("open");
      this.launcher.setAttribute("aria-expanded", "true");
      this.launcher.setAttribute("aria-label", this.t.close);
      this.input.focus();
      if (!this.restored) this.restored = this.restore();
      await this.restored;
    }

    close() {
      this.panel.hidden = true;
      this.root.classList.remove("open");
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.setAttribute("aria-label", this.t.open);
      this.launcher.focus();
    }

    onKey(event) {
      if (event.key === "Escape") {
        event.stopPropagation();
        return this.close();
      }
      if (event.key !== "Tab") return;
      const focusable = [...this.panel.querySelectorAll("button,textarea,a[href],summary,[tabindex='0']")]
        .filter((node) => !node.disabled && node.getClientRects().length);
      if (!focusable.length) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      const active = this.shadow.activeElement;
      if (event.shiftKey && (active === first || !this.panel.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && active === last) {
        event.preventDefault();
        first.focus();
      }
    }

    autosize() {
      this.input.style.height = "auto";
      this.input.style.height = Math.min(this.input.scrollHeight, 120) + "px";
    }

    scroll() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    /* ----- conversation ----- */

    async restore(retried = false) {
      try {
        const token = await this.token();
        if (!this.settings) {
          const data = await this.client.request(OPS.website, { w: this.options.websiteId }, token);
          this.applySettings(data.website.settings);
        }
      } catch (error) {
        if (error.code === "UNAUTHENTICATED" && !retried) {
          this.save({ token: null }); // e.g. the server's keys changed: a new session
          return this.restore(true);
        }
        return this.showError(error, () => this.restore());
      }
      const welcome = this.options.welcomeMessage || this.settings.welcomeMessage;
      if (welcome) this.log.append(this.bubble("assistant", welcome));
      if (!this.saved.chatId) return this.suggest();
      const messages = [];
      try {
        let after = null;
        do {
          const data = await this.client.request(OPS.messages, { c: this.saved.chatId, after }, await this.token());
          messages.push(...data.messages.nodes);
          after = data.messages.pageInfo.hasNextPage ? data.messages.pageInfo.endCursor : null;
        } while (after);
      } catch (error) {
        if (error.code === "NOT_FOUND") this.save({ chatId: null });
        else return this.showError(error, () => this.restore());
      }
      for (const m of messages) {
        if (m.role === "USER") this.log.append(this.bubble("user", m.content));
        else if (m.role === "ASSISTANT") {
          const node = this.bubble("assistant", m.content);
          if (m.status !== "COMPLETE") node.append(el("div", { class: "note" }, this.t.interrupted));
          this.showSources(node, m.sources);
          if (m.status === "COMPLETE") this.rateBar(node, m.id, m.feedback && m.feedback.rating);
          this.log.append(node);
        } else if (m.role === "OWNER") this.teamMessage(m);
      }
      if (!messages.length) this.suggest();
      this.scroll();
      this.watch();
    }

    newConversation() {
      if (this.streaming) this.stop();
      this.unwatch();
      this.setHandoff("NONE", true);
      this.save({ chatId: null });
      this.log.textContent = "";
      const welcome = this.options.welcomeMessage || (this.settings && this.settings.welcomeMessage);
      if (welcome) this.log.append(this.bubble("assistant", welcome));
      this.suggest();
      this.input.focus();
    }

    suggest() {
      const questions = this.options.suggestedQuestions || (this.settings && this.settings.suggestedQuestions) || [];
      if (!questions.length) return;
      const box = el("div", { class: "suggestions", role: "group", "aria-label": this.t.suggestions });
      for (const q of questions) {
        const chip = el("button", { class: "chip", type: "button" }, q);
        chip.addEventListener("click", () => this.ask(q));
        box.append(chip);
      }
      this.log.append(box);
      this.suggestions = box;
    }

    bubble(role, text) {
      const node = el("div", { class: "msg " + role });
      node.append(el("span", { class: "sr" }, (role === "user" ? this.t.you : this.t.assistant) + ": "));
      if (role === "user") node.append(text);
      else node.append(el("div", { class: "body" }, markdown(text)));
      return node;
    }

    /** A message of the website's team (role OWNER), shown once. */
    teamMessage(m) {
      this.shown = this.shown || new Set();
      if (this.shown.has(m.id)) return null;
      this.shown.add(m.id);
      const who = this.t.team.replace("{title}", (this.settings && this.settings.title) || "").trim();
      const node = el("div", { class: "msg team" }, el("div", { class: "who" }, who), el("div", { class: "body" }, markdown(m.content)));
      this.log.append(node);
      return who;
    }

    /* ----- a human when needed ----- */

    async requestHuman() {
      this.humanButton.disabled = true;
      try {
        const chatId = await this.chatId();
        const data = await this.client.request(OPS.human, { c: chatId }, await this.token());
        this.setHandoff(data.requestHuman.handoff);
      } catch (error) {
        this.humanButton.disabled = false;
        this.live.textContent = this.errorText(error);
      }
    }

    setHandoff(state, quiet) {
      const text = state === "REQUESTED" ? this.t.asked : state === "TAKEN_OVER" ? this.t.withTeam : "";
      this.humanButton.hidden = state !== "NONE" || this.options.handoff === false;
      this.humanButton.disabled = false;
      if (this.handoffNote.textContent === text) return;
      this.handoffNote.textContent = text;
      if (text && !quiet) this.live.textContent = text;
    }

    /** The chat's activity (chatEvents) on the shared socket: hand-off changes, and the
     * team's messages as they are written. */
    watch() {
      const chatId = this.saved.chatId;
      if (!chatId || (this.watching && this.watching.chatId === chatId)) return;
      this.unwatch();
      const w = { chatId, tries: 0 };
      this.watching = w;
      const stop = (error) => {
        if (this.watching !== w) return;
        this.watching = null;
        if (error && error.code === "NETWORK" && w.tries++ < 5) setTimeout(() => this.watching || this.watch(), 3000);
      };
      w.stop = this.client.subscribe(OPS.events, { c: chatId }, {
        next: (payload) => {
          if (payload.errors && payload.errors.length) return stop();
          const event = payload.data && payload.data.chatEvents;
          if (!event) return;
          if (event.__typename === "HandoffChanged") return this.setHandoff(event.chat.handoff, !w.seen && (w.seen = true));
          if (event.message.role !== "OWNER") return;
          const who = this.teamMessage(event.message);
          if (who) this.live.textContent = who + ": " + event.message.content;
          this.scroll();
        },
        error: stop,
        complete: () => stop(),
      });
    }

    unwatch() {
      const w = this.watching;
      this.watching = null;
      if (w && w.stop) w.stop();
    }

    showSources(node, sources) {
      const old = node.querySelector(".sources");
      if (old) old.remove();
      if (!sources || !sources.length) return;
      const list = el("ol");
      for (const s of sources) {
        list.append(el("li", null, el("details", null, el("summary", null, s.title), el("div", null, s.snippet))));
      }
      node.append(el("div", { class: "sources", role: "group", "aria-label": this.t.sources }, el("div", null, this.t.sources), list));
    }

    /** Thumbs up / down under a finished answer; after a thumbs-down, an optional comment. */
    rateBar(node, id, rating) {
      const t = this.t;
      const bar = el("div", { class: "rate", role: "group", "aria-label": t.rate });
      const send = async (r, comment) => {
        try {
          await this.client.request(OPS.rate, { m: id, r, c: comment || null }, await this.token());
          return true;
        } catch (error) {
          this.live.textContent = this.errorText(error);
        }
      };
      const buttons = ["UP", "DOWN"].map((r) => {
        const button = el("button", { type: "button", "aria-label": t[r.toLowerCase()], "aria-pressed": String(r === rating), class: r }, icon("thumb"));
        button.addEventListener("click", async () => {
          if (!(await send(r))) return;
          for (const b of buttons) b.setAttribute("aria-pressed", String(b === button));
          const old = bar.querySelector("form");
          if (old) old.remove();
          if (r === "UP") return void (this.live.textContent = t.thanks);
          const field = el("input", { type: "text", maxlength: "1000", "aria-label": t.comment, placeholder: t.comment });
          const form = el("form", null, field, el("button", { class: "retry", type: "submit" }, t.sendComment));
          form.addEventListener("submit", async (event) => {
            event.preventDefault();
            if (field.value.trim() && !(await send("DOWN", field.value.trim()))) return;
            form.replaceWith(el("div", { class: "note", role: "status" }, t.thanks));
          });
          bar.append(form);
          field.focus();
        });
        return button;
      });
      bar.append(...buttons);
      node.append(bar);
    }

    setStreaming(on) {
      this.sendButton.replaceChildren(icon(on ? "stop" : "send"));
      this.sendButton.setAttribute("aria-label", on ? this.t.stop : this.t.send);
      this.sendButton.classList.toggle("stop", on);
      this.log.setAttribute("aria-busy", on ? "true" : "false");
    }

    async ask(raw) {
      const question = String(raw || "").trim();
      if (!question || this.streaming) return;
      this.input.value = "";
      await this.restored; // the history first, then the new question
      if (this.streaming) return void (this.input.value = question);
      this.autosize();
      if (this.suggestions) {
        this.suggestions.remove();
        this.suggestions = null;
      }
      this.log.append(this.bubble("user", question));
      this.answer(question);
    }

    answer(question, attempt = 0) {
      const node = el("div", { class: "msg assistant", "aria-busy": "true" });
      const body = el("div", { class: "body" });
      const typing = el("div", { class: "typing", role: "status", "aria-label": this.t.typing }, el("span"), el("span"), el("span"));
      node.append(el("span", { class: "sr" }, this.t.assistant + ": "), body, typing);
      this.log.append(node);
      this.scroll();

      let text = "";
      let sources = [];
      let frame = 0;
      const render = () => {
        frame = 0;
        body.replaceChildren(markdown(text));
        this.scroll();
      };
      const state = { stop: null, done: false };
      this.streaming = state;
      this.setStreaming(true);

      const end = (note, error) => {
        if (state.done) return;
        state.done = true;
        if (frame) cancelAnimationFrame(frame);
        render();
        typing.remove();
        node.removeAttribute("aria-busy");
        this.streaming = null;
        this.setStreaming(false);
        if (note) node.append(el("div", { class: "note" }, note));
        if (error && error.code === "UNAVAILABLE" && error.retryAfter > 0 && !text && attempt < 3) {
          // The server sheds load: nothing was stored, so ask again after its wait, with
          // jitter so that refused visitors do not all come back at the same moment.
          node.append(el("div", { class: "note", role: "status" }, this.t.busy));
          this.live.textContent = this.t.busy;
          const delay = error.retryAfter * 1000 * (1 + Math.random());
          setTimeout(() => {
            node.remove();
            this.answer(question, attempt + 1);
          }, delay);
          return;
        }
        if (error && error.code === "NOT_FOUND") this.save({ chatId: null }); // chat deleted
        if (error) this.retryButton(node, error, () => {
          node.remove();
          this.answer(question);
        });
        this.live.textContent = error ? this.errorText(error) : body.textContent; // as rendered
        this.scroll();
      };
      state.end = end;

      (async () => {
        let chatId;
        try {
          chatId = await this.chatId();
        } catch (error) {
          return end(null, error);
        }
        if (state.done) return;
        state.stop = this.client.subscribe(OPS.stream, { c: chatId, m: question }, {
          next: (payload) => {
            if (payload.errors && payload.errors.length) return end(null, GraphQLError.from(payload.errors));
            const event = payload.data && payload.data.chatStream;
            if (!event) return;
            switch (event.__typename) {
              case "SourcesFound":
                sources = event.sources;
                break;
              case "TokenDelta":
                if (typing.isConnected) typing.remove();
                text += event.text;
                if (!frame) frame = requestAnimationFrame(render);
                break;
              case "MessageDone":
                text = event.message.content;
                this.showSources(node, event.message.sources);
                end();
                this.rateBar(node, event.message.id);
                break;
              case "ChatFailed":
                if (event.code === "HUMAN_HANDLING") { // the team answers: no bubble of ours
                  end();
                  node.remove();
                  this.setHandoff("TAKEN_OVER");
                  break;
                }
                this.showSources(node, sources);
                end(null, new GraphQLError(event.detail, event.code, event.retryAfter));
                break;
            }
          },
          error: (error) => {
            if (error.code === "UNAUTHENTICATED") this.save({ token: null });
            end(text ? this.t.interrupted : null, error);
          },
          complete: () => end(text ? null : this.t.interrupted),
        });
      })();
    }

    stop() {
      const state = this.streaming;
      if (!state) return;
      if (state.stop) state.stop();
      state.end(this.t.stopped);
      this.input.focus();
    }

    errorText(error) {
      if (error.code === "RATE_LIMITED") return this.t.limited.replace("{s}", Math.ceil(error.retryAfter || 1));
      if (error.code === "NETWORK") return this.t.offline;
      if (error.code === "BAD_USER_INPUT" || error.code === "FORBIDDEN") return error.message;
      return this.t.failed;
    }

    retryButton(node, error, retry) {
      const message = el("div", { class: "note error", role: "alert" }, this.errorText(error));
      const button = el("button", { class: "retry", type: "button" }, this.t.retry);
      button.addEventListener("click", retry);
      node.append(message, button);
      if (error.code === "RATE_LIMITED" && error.retryAfter > 0) {
        button.disabled = true;
        setTimeout(() => (button.disabled = false), error.retryAfter * 1000);
      }
    }

    showError(error, retry) {
      const node = el("div", { class: "msg assistant" });
      this.retryButton(node, error, () => {
        node.remove();
        retry();
      });
      this.log.append(node);
    }
  }

  const script = document.currentScript;
  const scriptBase = script && script.src ? new URL(script.src).origin : location.origin;
  let instance = null;

  window.AIChatWidget = {
    version: "1",
    operations: OPS,
    /** Mounts the widget once; returns it. Options: WIDGET_INTEGRATION.md. */
    init(options) {
      if (instance) return instance;
      if (!options || !options.websiteId) throw new Error("AIChatWidget.init needs a websiteId");
      const apiBase = String(options.apiBase || scriptBase).replace(/\/+$/, "");
      const start = () => (instance = instance || new ChatWidget(Object.assign({}, options, { apiBase })));
      if (document.body) return start();
      document.addEventListener("DOMContentLoaded", start, { once: true });
      return null;
    },
    open: () => instance && instance.open(),
    close: () => instance && instance.close(),
  };
})();
