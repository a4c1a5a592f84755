/**
 * The playground's server (src/programs/serve/): the handler answers the site's exact paths and
 * nothing else, and the running program over real TCP, where requests are written byte for byte so
 * that nothing normalises `/../` or `%2e%2e` before the server sees them; its flags' errors; and a
 * clean stop on SIGINT.
 */

import assert from "node:assert/strict";
import {
  type Asset,
  loopbackHosts,
  MAX_PATH_CHARS,
  SECURITY_HEADERS,
  siteHandler,
} from "../../../src/programs/serve/server.ts";
import { ROOT, runProgram } from "../../helpers/helpers.ts";
import { startServer } from "../../../tools/playground_server.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const SITE = new Map<string, Asset>([
  ["/", { body: bytes("<!doctype html>page"), type: "text/html; charset=utf-8" }],
  ["/page.js", { body: bytes("console.log(1)"), type: "text/javascript; charset=utf-8" }],
]);
const handle = siteHandler(SITE, loopbackHosts("127.0.0.1", 8000));
const get = (path: string, init: RequestInit = {}) =>
  handle(new Request(`http://127.0.0.1:8000${path}`, { headers: { host: "127.0.0.1:8000" }, ...init }));

Deno.test("the handler: exact paths only, GET and HEAD only, its own Host only, the security headers on every answer", async () => {
  const page = get("/");
  assert.equal(page.status, 200);
  assert.equal(await page.text(), "<!doctype html>page");
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const head = get("/page.js", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "14");
  assert.equal(await head.text(), "");
  const missing = [
    "/index.html",
    "/PAGE.JS",
    "/page.js/",
    "//page.js",
    "/page.js%00",
    "/%2e%2e/deno.json",
    "/.%2e/x",
    "/style.css",
  ];
  for (const path of missing) assert.equal(get(path).status, 404, path);
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const answer = get("/", { method, body: "x" });
    assert.equal(answer.status, 405, method);
    assert.equal(answer.headers.get("allow"), "GET, HEAD");
  }
  assert.equal(get(`/${"a".repeat(MAX_PATH_CHARS)}`).status, 414);
  for (const host of ["evil.example:8000", "127.0.0.1:9999", ""]) {
    const answer = get("/", { headers: { host } });
    assert.equal(answer.status, 421, host);
  }
  for (const host of ["localhost:8000", "[::1]:8000"]) {
    assert.equal(get("/", { headers: { host } }).status, 200);
  }
  assert.equal(
    siteHandler(SITE, null)(new Request("http://example.org/")).status,
    200,
    "any host off loopback",
  );
  for (const answer of [get("/"), get("/nope"), get("/", { method: "POST" })]) {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      assert.equal(answer.headers.get(name), value, name);
    }
  }
});

/** Writes `request` to the server at `port` as it is and resolves with the status line of the answer. */
async function rawStatus(port: number, request: string): Promise<string> {
  const connection = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await connection.write(bytes(request));
    const buffer = new Uint8Array(4096);
    const n = await connection.read(buffer);
    return new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    connection.close();
  }
}

Deno.test("deno task serve: serves the bundled page, refuses traversal and bad requests over TCP, stops on SIGINT", async () => {
  const server = await startServer();
  const { origin, port } = server;
  try {
    const page = await fetch(`${origin}/`);
    assert.match(await page.text(), /<script type="module" src="\/page.js">/);
    for (const script of ["/page.js", "/worker.js"]) {
      const answer = await fetch(`${origin}${script}`);
      assert.equal(answer.status, 200);
      const text = await answer.text();
      assert.ok(
        !/^import .* from "(npm|jsr|https?):/m.test(text),
        `${script} is bundled, with no imports left`,
      );
      if (script === "/worker.js") assert.match(text, /@compute @workgroup_size/, "the WGSL is bundled in");
    }
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const targets = [
      "/../deno.json",
      "/..%2fdeno.json",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/src/../deno.json",
      "/web/index.html",
    ];
    for (const target of targets) {
      const status = await rawStatus(port, `GET ${target} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
      assert.match(status, /^HTTP\/1\.1 404/, target);
    }
    assert.match(await rawStatus(port, `GARBAGE\r\n\r\n`), /^HTTP\/1\.1 400/);
    const rebound = `GET / HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`;
    assert.match(await rawStatus(port, rebound), /^HTTP\/1\.1 421/);
    assert.equal((await fetch(`${origin}/`)).status, 200, "still serving after the bad requests");
  } finally {
    const { code, stderr } = await server.stop();
    assert.equal(code, 0, stderr);
    assert.ok(!/^error:/m.test(stderr), stderr);
  }
});

Deno.test("deno task serve: bad flags and a port in use are one error line, exit 2", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = (listener.addr as Deno.NetAddr).port;
  try {
    const cases: [string[], RegExp][] = [
      [["--port", "70000"], /^error: .*--port.*whole number from 0 to 65535/],
      [["--port", "http"], /^error: .*--port/],
      [["--host", "a b"], /^error: --host "a b": not an address/],
      [["--port", String(busy)], /^error: --host 127\.0\.0\.1 --port \d+: the port is in use/],
      [["--spin"], /^error: .*--spin/],
    ];
    for (const [args, expected] of cases) {
      const run = await runProgram("src/programs/serve/main.ts", args, {
        cwd: ROOT,
        permissions: ["--allow-read", "--allow-net", "--allow-run=deno", "--allow-env=INIT_CWD"],
      });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0], expected);
    }
  } finally {
    listener.close();
  }
});
