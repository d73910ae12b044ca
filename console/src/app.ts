import type { Api } from "./api";
import { ApiError } from "./api";

/** What every view is handed. */
export interface App {
  api: Api;
  /** A short message in the live region (announced to screen readers). */
  notify(message: string, kind?: "info" | "error"): void;
  /** Goes to a route of the console (`#/…`). */
  go(route: string): void;
}

export function readable(error: unknown): string {
  return error instanceof ApiError ? error.readable : "Something went wrong; try again.";
}
