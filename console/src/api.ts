// Every call to askbase goes through the typed documents that graphql-codegen generated
// from src/operations/*.graphql: queries and mutations over HTTP (uploads through the
// multipart route /graphql/upload), subscriptions over one graphql-ws WebSocket.
import { createClient, type Client } from "graphql-ws";
import type { TypedDocumentString } from "./gql/graphql";

type Document<R, V> = TypedDocumentString<R, V>;

interface GraphQLError {
  message: string;
  extensions?: { code?: string; retryAfter?: number };
}

/** An error the API reported (its `code`), or one on the way there (`NETWORK`). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** What to show: the API's own message, with what to do next where that helps. */
  get readable(): string {
    switch (this.code) {
      case "RATE_LIMITED":
        return `Too many requests: try again in ${this.retryAfter ?? 60} s.`;
      case "UNAVAILABLE":
        return `The service is unavailable for a moment: try again${
          this.retryAfter ? ` in ${this.retryAfter} s` : ""
        }.`;
      case "FORBIDDEN":
        return `Not allowed: ${this.message}`;
      case "NETWORK":
        return "The server cannot be reached: check your connection and try again.";
      case "INTERNAL":
        return "Something went wrong on the server; try again.";
      default:
        return this.message;
    }
  }
}

export interface ApiOptions {
  /** The bearer token of the signed-in owner, if any. */
  token(): string | null;
  /** Called when the API no longer accepts the token. */
  onUnauthenticated(error: ApiError): void;
}

const base = new URL("../graphql", window.location.href);

export class Api {
  private socket: Client | null = null;

  constructor(private readonly options: ApiOptions) {}

  async request<R, V>(document: Document<R, V>, variables: V): Promise<R> {
    return this.send(base.href, {
      body: JSON.stringify({ query: document.toString(), variables }),
      headers: { "content-type": "application/json" },
    });
  }

  /** A mutation with one file, as the GraphQL multipart request spec sends it. */
  async upload<R, V extends { file: File }>(document: Document<R, V>, variables: V): Promise<R> {
    const form = new FormData();
    form.append("operations", JSON.stringify({ query: document.toString(), variables: { ...variables, file: null } }));
    form.append("map", JSON.stringify({ 0: ["variables.file"] }));
    form.append("0", variables.file, variables.file.name);
    return this.send(`${base.href}/upload`, { body: form, headers: {} });
  }

  /** Each result to `next` until the server ends the stream; returns the unsubscribe. */
  subscribe<R, V>(
    document: Document<R, V>,
    variables: V,
    next: (data: R) => void,
    failed: (error: ApiError) => void,
  ): () => void {
    return this.client().subscribe<R>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (result.errors?.length) failed(this.failure(result.errors as GraphQLError[]));
          else if (result.data) next(result.data);
        },
        error: () => failed(new ApiError("The live connection failed.", "NETWORK")),
        complete: () => undefined,
      },
    );
  }

  close(): void {
    void this.socket?.dispose();
    this.socket = null;
  }

  private client(): Client {
    this.socket ??= createClient({
      url: base.href.replace(/^http/, "ws"),
      connectionParams: () => {
        const token = this.options.token();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      lazy: true,
      retryAttempts: 5,
    });
    return this.socket;
  }

  private async send<R>(url: string, init: { body: BodyInit; headers: Record<string, string> }): Promise<R> {
    const token = this.options.token();
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (token) headers["authorization"] = `Bearer ${token}`;
    let body: { data?: R | null; errors?: GraphQLError[] };
    try {
      const response = await fetch(url, { method: "POST", body: init.body, headers });
      body = (await response.json()) as typeof body;
    } catch {
      throw new ApiError("The server cannot be reached.", "NETWORK");
    }
    if (body.errors?.length) throw this.failure(body.errors);
    if (!body.data) throw new ApiError("The server sent no data.", "INTERNAL");
    return body.data;
  }

  private failure(errors: GraphQLError[]): ApiError {
    const first = errors[0];
    const error = new ApiError(
      first?.message ?? "Unknown error",
      first?.extensions?.code ?? "INTERNAL",
      first?.extensions?.retryAfter,
    );
    if (error.code === "UNAUTHENTICATED") this.options.onUnauthenticated(error);
    return error;
  }
}
