/**
 * The playground's server as a child process, for the tests and the screenshot tool:
 * `deno task serve --port 0` started in the repository, its port read from the line it prints, and a
 * stop that sends SIGINT and resolves with its exit code and stderr.
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** A running playground server. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  /** Sends SIGINT; resolves once the server has exited. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/** Starts `deno task serve --port 0` and resolves once it listens. */
export async function startServer(): Promise<RunningServer> {
  const child = new Deno.Command("deno", {
    args: ["task", "serve", "--port", "0"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/127\.0\.0\.1:\d+\//.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server exited before listening: ${await stderr}`);
    out += value;
  }
  const port = Number(out.match(/127\.0\.0\.1:(\d+)\//)![1]);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill("SIGINT");
      const status = await child.status;
      await reader.cancel();
      return { code: status.code, stderr: await stderr };
    },
  };
}
