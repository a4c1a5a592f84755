/// <reference lib="dom" />

/**
 * Takes the README's screenshot of the playground (docs/images/playground.png): starts
 * `deno task serve`, opens the page in Debian's Chromium with WebGPU (SwiftShader), trains with the
 * page's default settings and captures the page once the comparison is shown.
 *
 *     deno run -A tools/playground_screenshot.ts [OUTPUT.png]
 */

import { chromium } from "playwright-core";
import { startServer } from "./playground_server.ts";

const output = Deno.args[0] ?? "docs/images/playground.png";
const server = await startServer();
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--enable-unsafe-webgpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1150, height: 1400 } });
  await page.goto(`${server.origin}/`);
  await page.click("#train");
  await page.waitForFunction(
    () => /^(Done|Error)/.test(document.getElementById("status")!.textContent ?? ""),
    null,
    {
      timeout: 600_000,
    },
  );
  console.log(await page.textContent("#status"), await page.textContent("#engine"));
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await server.stop();
}
