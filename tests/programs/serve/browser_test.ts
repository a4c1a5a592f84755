/**
 * The playground in a real browser: Debian's Chromium, driven headless by playwright-core. The page
 * trains the four classic strategies over two seeds on WebGPU (Chromium's SwiftShader adapter), and
 * then, in a browser without WebGPU, on the CPU engine's WebAssembly kernels in its worker; each time
 * its downloaded results.json and results.csv have the CLI's format and numbers (`deno task compare`
 * with the same settings on the same engine kind, within the GPU parity tolerances). The charts are
 * checked drawn in a screenshot of the page's area. Outside CI the tests skip without Chromium; in CI
 * (`CI=true`) they fail instead.
 */

/// <reference lib="dom" />

import assert from "node:assert/strict";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { type PlaygroundSettings, settingsConfig } from "../../../src/programs/serve/web/protocol.ts";
import { runProgram } from "../../helpers/helpers.ts";
import { startServer } from "../../../tools/playground_server.ts";

const CHROMIUM = "/usr/bin/chromium";

function haveChromium(): boolean {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    if (Deno.env.get("CI") === "true") {
      throw new Error(`${CHROMIUM} is missing: CI installs Debian's chromium`);
    }
    console.warn(`browser tests skipped: no ${CHROMIUM}`);
    return false;
  }
}

/** Small enough for SwiftShader in CI: 2 seeds × (pretraining + 4 strategies) of 4 epochs. */
const SETTINGS: PlaygroundSettings = {
  seed: 7,
  seeds: 2,
  relatedness: 0.8,
  shift: "mixed",
  sourceSamples: 400,
  targetSamples: 200,
  epochs: 4,
  hiddenDim: 16,
  optimizer: "sgd",
  strategies: ["feature_extractor", "head_finetune", "full_finetune"],
  device: "auto",
};

/** Sets the page's controls to `settings`. */
async function fill(page: Page, settings: PlaygroundSettings): Promise<void> {
  for (
    const name of [
      "seed",
      "seeds",
      "relatedness",
      "sourceSamples",
      "targetSamples",
      "epochs",
      "hiddenDim",
    ] as const
  ) {
    await page.fill(`input[name="${name}"]`, String(settings[name]));
  }
  await page.selectOption('select[name="shift"]', settings.shift);
  await page.selectOption('select[name="optimizer"]', settings.optimizer);
  await page.selectOption('select[name="device"]', settings.device);
  for (const box of await page.locator('input[name="strategy"]').all()) {
    await box.setChecked(settings.strategies.includes(await box.getAttribute("value") as never));
  }
}

/** What one page run gave: the engine line, the table and the two downloads. */
interface PageRun {
  readonly engine: string;
  readonly table: string;
  readonly json: Record<string, unknown>;
  readonly csv: string;
}

/** Trains with `settings` on the page at `origin` in `browser`, saving a screenshot to `shot`. */
async function trainOnPage(
  browser: Browser,
  origin: string,
  settings: PlaygroundSettings,
  shot: string,
): Promise<PageRun> {
  const page = await browser.newPage({ acceptDownloads: true });
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
  await page.goto(`${origin}/`);
  await fill(page, settings);
  await page.click("#train");
  await page.waitForFunction(
    () => /^(Done|Error)/.test(document.getElementById("status")!.textContent ?? ""),
    null,
    {
      timeout: 240_000,
    },
  );
  const status = await page.textContent("#status");
  assert.match(status ?? "", /^Done: 8 runs\./, `${status}; ${problems.join("; ")}`);
  assert.deepEqual(problems, [], "no script errors on the page");
  const download = async (name: string) => {
    const [file] = await Promise.all([page.waitForEvent("download"), page.click(`a[download="${name}"]`)]);
    return Deno.readTextFileSync((await file.path())!);
  };
  const run = {
    engine: (await page.textContent("#engine")) ?? "",
    table: (await page.textContent("#table")) ?? "",
    json: JSON.parse(await download("results.json")),
    csv: await download("results.csv"),
  };
  await page.locator("#charts").screenshot({ path: shot });
  assert.ok(await chartsDrawn(page), "both charts have lines drawn");
  await page.close();
  return run;
}

/**
 * Whether both charts are drawn: each SVG rendered to a canvas has many coloured (not white or grey)
 * pixels, as the series' lines are.
 */
function chartsDrawn(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    for (const id of ["loss", "accuracy"]) {
      const svg = document.querySelector(`#${id} svg`);
      if (svg === null) return false;
      const image = new Image();
      image.src = `data:image/svg+xml;charset=utf-8,${
        encodeURIComponent(new XMLSerializer().serializeToString(svg))
      }`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context = canvas.getContext("2d")!;
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      let coloured = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
      }
      if (coloured < 500) return false;
    }
    return true;
  });
}

/** `deno task compare` with `settings` on `device`; resolves with its results.json and results.csv. */
async function compareOnCli(
  settings: PlaygroundSettings,
  device: string[],
): Promise<{ json: Record<string, unknown>; csv: string }> {
  const folder = Deno.makeTempDirSync();
  const config = join(folder, "config.yaml"), out = join(folder, "run");
  Deno.writeTextFileSync(
    config,
    JSON.stringify({ ...settingsConfig(settings), logging: { file: join(folder, "app.log") } }),
  );
  const run = await runProgram(
    "src/programs/compare/main.ts",
    [
      "--config",
      config,
      "--seeds",
      String(settings.seeds),
      "--strategies",
      settings.strategies.join(","),
      "--out-dir",
      out,
      ...device,
    ],
    { cwd: folder, permissions: ["--allow-read", "--allow-write", "--allow-env"] },
  );
  assert.equal(run.code, 0, run.stderr);
  return {
    json: JSON.parse(Deno.readTextFileSync(join(out, "results.json"))),
    csv: Deno.readTextFileSync(join(out, "results.csv")),
  };
}

/** The keys of `value` all the way down (array items by their first), sorted: the document's format. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shape(value[0])];
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((key) => [key, shape((value as Record<string, unknown>)[key])]),
    );
  }
  return value === null ? "null" : typeof value;
}

interface RunJson {
  strategy: string;
  seed: number;
  target: { test: { loss: number; accuracy: number } };
}

/** The page's runs match the CLI's: same runs in the same order, final test metrics within the tolerances. */
function assertSameRuns(
  page: Record<string, unknown>,
  cli: Record<string, unknown>,
  lossTolerance: number,
): void {
  const pageRuns = page.runs as RunJson[], cliRuns = cli.runs as RunJson[];
  assert.deepEqual(pageRuns.map((r) => [r.seed, r.strategy]), cliRuns.map((r) => [r.seed, r.strategy]));
  pageRuns.forEach((run, i) => {
    const other = cliRuns[i].target.test;
    const where = `${run.seed} ${run.strategy}`;
    assert.ok(
      Math.abs(run.target.test.loss / other.loss - 1) <= lossTolerance,
      `${where}: ${run.target.test.loss} vs ${other.loss}`,
    );
    assert.ok(Math.abs(run.target.test.accuracy - other.accuracy) <= 0.01, `${where}: accuracy`);
  });
}

/** Everything but the values that differ by nature: timings, the runtime, the log file's path. */
function assertSameFormat(page: PageRun, cli: { json: Record<string, unknown>; csv: string }): void {
  const withoutRuntime = (doc: Record<string, unknown>) => ({ ...doc, deno_version: null });
  assert.deepEqual(shape(withoutRuntime(page.json)), shape(withoutRuntime(cli.json)));
  assert.equal(page.csv.split("\n")[0], cli.csv.split("\n")[0], "the CSV header");
  assert.equal(page.csv.split("\n").length, cli.csv.split("\n").length, "the CSV rows");
}

/** What one browser test checks: Chromium's flags, the engine line, the CLI's flags, the loss tolerance. */
interface BrowserCase {
  readonly browserFlags: string[];
  readonly engine: RegExp;
  readonly cliFlags: string[];
  readonly lossTolerance: number;
}

/** Trains on the page in a Chromium started with `c.browserFlags`, then checks it against the CLI. */
async function checkAgainstCli(c: BrowserCase): Promise<void> {
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", ...c.browserFlags],
  });
  try {
    const shot = join(Deno.makeTempDirSync(), "playground.png");
    const page = await trainOnPage(browser, server.origin, SETTINGS, shot);
    assert.match(page.engine, c.engine);
    assert.match(page.table, /full_finetune/);
    assert.ok(Deno.statSync(shot).size > 10_000, "a screenshot of the charts");
    const cli = await compareOnCli(SETTINGS, c.cliFlags);
    assertSameFormat(page, cli);
    assertSameRuns(page.json, cli.json, c.lossTolerance);
  } finally {
    await browser.close();
    assert.equal((await server.stop()).code, 0);
  }
}

const run = haveChromium();

Deno.test({
  name:
    "playground on WebGPU: the page trains every strategy and matches deno task compare on the GPU engine",
  ignore: !run,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    checkAgainstCli({
      browserFlags: ["--enable-unsafe-webgpu"],
      engine: /^Engine: gpu \(WebGPU on .*\)$/,
      cliFlags: ["--device", "gpu"],
      lossTolerance: 1e-3,
    }),
});

Deno.test({
  name:
    "playground without WebGPU: the worker falls back to the WebAssembly kernels and matches deno task compare on the CPU",
  ignore: !run,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    checkAgainstCli({
      browserFlags: ["--disable-features=WebGPU"],
      engine: /^Engine: cpu \(WebAssembly (relaxed )?SIMD kernels, 1 thread\)$/,
      cliFlags: ["--device", "cpu", "--cpu-kernels", "wasm", "--threads", "1"],
      lossTolerance: 1e-6,
    }),
});
