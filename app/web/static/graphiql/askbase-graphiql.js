// askbase's GraphiQL page: the vendored GraphiQL (see VERSIONS) with one fetcher for
// both transports. Queries and mutations are POSTed to this page's own URL; subscriptions
// go over a WebSocket to the same URL (graphql-transport-ws, the vendored graphql-ws
// client). A token pasted in the Headers tab, {"Authorization": "Bearer <token>"}, goes
// with both: as a header on HTTP requests, and in the socket's connection_init payload
// (the socket is opened again when the token changes). Kept out of the page itself so that
// its Content-Security-Policy needs no inline script.
(function () {
  "use strict";

  const PLACEHOLDER = "Bearer <paste a token>";
  const WELCOME = `# askbase GraphQL API
#
# Paste a token in the Headers tab below, in
# place of <paste a token>: an owner token, or
# a visitor token from startSession. It goes
# with queries, mutations and subscriptions
# (over the WebSocket), and is not stored.
#
# Run: Ctrl-Enter, or the play button.

{
  health {
    ok
  }
}
`;

  const container = document.getElementById("graphiql");
  // GraphiQL's dialogs add a <style> element, allowed by this nonce in the page's policy.
  window.__webpack_nonce__ = container.dataset.styleNonce;
  const url = window.location.href.split(/[?#]/)[0];
  const socketUrl = url.replace(/^http/, "ws");

  /** The headers to send: the Authorization header is dropped while it still holds the
   * placeholder, so that public fields work before a token is pasted. */
  function sendable(headers) {
    const sent = {};
    for (const [name, value] of Object.entries(headers || {})) {
      const placeholder = name.toLowerCase() === "authorization" && /<.*>/.test(String(value));
      if (!placeholder) sent[name] = String(value);
    }
    return sent;
  }

  function authorization(headers) {
    const found = Object.keys(headers).find((name) => name.toLowerCase() === "authorization");
    return found === undefined ? null : headers[found];
  }

  /** Whether the operation to run is a subscription, read from the query text itself:
   * GraphiQL's parsed document lags behind the editor for a moment after each change. */
  function isSubscription(query, operationName) {
    const text = query.replace(/"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|#[^\n]*/g, " ");
    const operations = [];
    let depth = 0;
    let parens = 0;
    let atDefinition = true; // at depth 0, before a definition's keyword
    let naming = null; // the definition whose name may come next
    for (const [token] of text.matchAll(/[{}()@]|[_A-Za-z][_0-9A-Za-z]*/g)) {
      if (token === "(") parens += 1;
      else if (token === ")") parens -= 1;
      else if (token === "{") {
        if (depth === 0 && atDefinition) operations.push({ kind: "query", name: null });
        depth += 1;
        atDefinition = false;
        naming = null;
      } else if (token === "}") {
        depth -= 1;
        atDefinition = depth === 0;
      } else if (token === "@") naming = null;
      else if (depth === 0 && parens === 0) {
        if (atDefinition) {
          naming = { kind: token, name: null };
          operations.push(naming);
          atDefinition = false;
        } else if (naming) {
          naming.name = token;
          naming = null;
        }
      }
    }
    const runnable = operations.filter((operation) => operation.kind !== "fragment");
    const chosen = operationName
      ? runnable.find((operation) => operation.name === operationName)
      : runnable[0];
    return Boolean(chosen) && chosen.kind === "subscription";
  }

  async function overHttp(params, headers) {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify(params),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
    }
  }

  let socket = null; // { client, auth }: one WebSocket per token

  function socketClient(auth) {
    if (socket && socket.auth === auth) return socket.client;
    if (socket) socket.client.dispose();
    const client = graphqlWs.createClient({
      url: socketUrl,
      connectionParams: auth ? { Authorization: auth } : {},
      retryAttempts: 0, // an IDE shows a refused or lost socket at once
    });
    socket = { client, auth };
    return client;
  }

  function describe(error) {
    if (error && typeof error.code === "number") {
      return `WebSocket closed: ${error.code} ${error.reason || ""}`.trim();
    }
    if (Array.isArray(error)) return error.map((e) => e.message).join("; ");
    return (error && error.message) || String(error);
  }

  /** An observable of a subscription's results; errors arrive as a result of their own. */
  function overSocket(params, auth) {
    return {
      subscribe(observer) {
        const dispose = socketClient(auth).subscribe(params, {
          next: (result) => observer.next(result),
          error: (error) => {
            observer.next({ errors: [{ message: describe(error) }] });
            observer.complete();
          },
          complete: () => observer.complete(),
        });
        return { unsubscribe: dispose };
      },
    };
  }

  function fetcher(graphQLParams, options) {
    const headers = sendable(options && options.headers);
    const params = {
      query: graphQLParams.query,
      variables: graphQLParams.variables || undefined,
      operationName: graphQLParams.operationName || undefined,
    };
    if (isSubscription(params.query || "", params.operationName)) {
      return overSocket(params, authorization(headers));
    }
    return overHttp(params, headers);
  }

  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: WELCOME,
      defaultHeaders: JSON.stringify({ Authorization: PLACEHOLDER }, null, 2),
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
