/**
 * The playground's HTTP handler: a fixed map of paths to files built at start, and nothing else. A
 * request names a file by its exact path (`/`, `/page.js`, ...); no path is ever joined to a folder or
 * decoded, so there is nothing to traverse (`/../`, `%2e%2e`, symbolic links) and no listing. Only GET
 * and HEAD are answered; there is no way to write. Every response carries headers that keep the page
 * to its own files: a content security policy that allows scripts, workers, styles and connections
 * from this origin alone, and cross-origin isolation, which the WebAssembly kernels' shared memory needs.
 *
 * @module
 */

/** One file the server answers with. */
export interface Asset {
  /** The bytes sent. */
  readonly body: Uint8Array<ArrayBuffer>;
  /** Its `Content-Type`. */
  readonly type: string;
}

/** The files the server answers with, by their exact path (`/` for the page). */
export type Site = ReadonlyMap<string, Asset>;

/** The longest request path answered; a longer one gets 414. */
export const MAX_PATH_CHARS = 2048;

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'", // the CPU fallback compiles its WebAssembly kernels
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; "),
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

/** A plain-text response with the security headers. */
function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, {
    status,
    headers: { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", ...extra },
  });
}

/**
 * The handler for `site`. When `hosts` is given (the server listens on a loopback address), a request
 * whose `Host` header is not one of them gets 421: a web page elsewhere cannot reach the server through
 * a domain name it points at 127.0.0.1 (DNS rebinding).
 */
export function siteHandler(site: Site, hosts: ReadonlySet<string> | null): (request: Request) => Response {
  return (request) => {
    if (hosts !== null && !hosts.has(request.headers.get("host") ?? "")) {
      return text(421, "misdirected request: this server answers only on its own address");
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(
        405,
        `method ${request.method.slice(0, 20)} not allowed: the playground only serves files`,
        {
          Allow: "GET, HEAD",
        },
      );
    }
    const path = new URL(request.url).pathname;
    if (path.length > MAX_PATH_CHARS) return text(414, "path too long");
    const asset = site.get(path);
    if (asset === undefined) return text(404, "not found");
    const headers = {
      ...SECURITY_HEADERS,
      "Content-Type": asset.type,
      "Content-Length": `${asset.body.length}`,
    };
    return new Response(request.method === "HEAD" ? null : asset.body, { status: 200, headers });
  };
}

/** The `Host` values a loopback server at `port` answers to, or null for another address (any host). */
export function loopbackHosts(hostname: string, port: number): ReadonlySet<string> | null {
  const loopback = ["127.0.0.1", "localhost", "::1", "[::1]"];
  if (!loopback.includes(hostname)) return null;
  const names = ["127.0.0.1", "localhost", "[::1]"];
  // On port 80 a browser sends the name alone.
  return new Set([...names.map((name) => `${name}:${port}`), ...(port === 80 ? names : [])]);
}
