// Checks that mirror the API's own (app/core/validation.py), so mistakes show next to the
// field before a request is sent; the API checks again.

const ORIGIN =
  /^https?:\/\/(localhost|\[[0-9a-f:]+\]|[0-9.]+|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63})(:\d{1,5})?$/;

/** One origin a line; the normalized list, or the first line that is not an origin. */
export function parseOrigins(text: string): { origins: string[] } | { error: string } {
  const origins: string[] = [];
  for (const line of text.split("\n")) {
    const value = line.trim().replace(/\/+$/, "").toLowerCase();
    if (!value) continue;
    if (value !== "*" && !ORIGIN.test(value)) {
      return { error: `"${line.trim()}" is not an origin like https://example.com (no path), or *.` };
    }
    if (!origins.includes(value)) origins.push(value);
  }
  if (origins.length > 50) return { error: "At most 50 origins." };
  return { origins };
}

export function lines(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}
