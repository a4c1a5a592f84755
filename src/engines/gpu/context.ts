/**
 * Getting a WebGPU device, and turning the ways it can fail into clear errors.
 *
 * `requestAdapter()` resolves to null (it does not throw) when there is no usable GPU; validation
 * errors outside an error scope are dropped unless someone listens for `uncapturederror`; a lost
 * device only says so through `device.lost`. {@linkcode GpuContext} watches the last two and
 * {@linkcode GpuContext.check} throws the first problem seen.
 *
 * @module
 */

import { errorMessage } from "../../core/errors.ts";

/** Why no GPU could be had (the engine selector falls back to the CPU on it). */
export class GpuUnavailable extends Error {
  /** Names the class in stack traces and `String(error)`, which would otherwise say `Error`. */
  override name = "GpuUnavailable";
}

/** A failure of the GPU while running: a validation error, or a lost device. */
export class GpuError extends Error {
  /** Names the class in stack traces and `String(error)`, which would otherwise say `Error`. */
  override name = "GpuError";
}

/** A device, what it is, and the first error it reported. */
export class GpuContext {
  #failure: string | null = null;

  private constructor(
    readonly device: GPUDevice,
    readonly description: string,
    /** True for a software adapter (the CPU emulating a GPU, such as Mesa's llvmpipe). */
    readonly software: boolean,
  ) {
    device.addEventListener("uncapturederror", (event) => {
      this.#failure ??= `GPU validation error: ${(event as GPUUncapturedErrorEvent).error.message}`;
    });
    device.lost.then((info) => {
      if (info.reason !== "destroyed") this.#failure ??= `GPU device lost: ${info.message || info.reason}`;
    });
  }

  /**
   * Asks `gpu` for a high-performance adapter and a device with the adapter's storage limits, and
   * with `timestamp-query` when `timestamps` is asked and the adapter has it. A software adapter
   * (such as Mesa's llvmpipe) counts as unavailable unless `allowSoftware`.
   */
  static async acquire(
    gpu: GPU | undefined = navigator.gpu,
    { allowSoftware = true, timestamps = false } = {},
  ): Promise<GpuContext> {
    if (gpu === undefined) throw new GpuUnavailable("this runtime has no WebGPU (navigator.gpu is missing)");
    ensureRuntimeDir();
    chooseBackends();
    let adapter: GPUAdapter | null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
    } catch (error) {
      throw new GpuUnavailable(`requesting a WebGPU adapter failed: ${errorMessage(error)}`);
    }
    if (adapter === null) {
      throw new GpuUnavailable("no WebGPU adapter is available (no GPU or no Vulkan/Metal/DX12 driver)");
    }
    if (adapter.info.isFallbackAdapter && !allowSoftware) {
      throw new GpuUnavailable(
        `the only WebGPU adapter is a software one (${
          adapter.info.description || "unnamed"
        }), slower than the CPU engine`,
      );
    }
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({
        requiredFeatures: timestamps && adapter.features.has("timestamp-query") ? ["timestamp-query"] : [],
        requiredLimits: {
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
        },
      });
    } catch (error) {
      throw new GpuUnavailable(`the WebGPU adapter refused a device: ${errorMessage(error)}`);
    }
    const info = adapter.info;
    const name = info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(" ");
    return new GpuContext(
      device,
      `${name || "unnamed adapter"}${info.isFallbackAdapter ? " (software)" : ""}`,
      info.isFallbackAdapter,
    );
  }

  /** Throws {@linkcode GpuError} if the device has reported a validation error or been lost. */
  check(): void {
    if (this.#failure !== null) throw new GpuError(this.#failure);
  }

  /** Frees the device. */
  destroy(): void {
    this.device.destroy();
  }
}

/**
 * Copies of `sources`' bytes after everything submitted so far: one copy each into mappable memory,
 * one submission, and one host wait for all of them.
 */
export async function readBuffers(device: GPUDevice, sources: readonly GPUBuffer[]): Promise<ArrayBuffer[]> {
  const { MAP_READ, COPY_DST } = GPUBufferUsage;
  const encoder = device.createCommandEncoder();
  const staging = sources.map((source) => {
    const copy = device.createBuffer({ size: source.size, usage: MAP_READ | COPY_DST });
    encoder.copyBufferToBuffer(source, 0, copy, 0, source.size);
    return copy;
  });
  device.queue.submit([encoder.finish()]);
  try {
    await Promise.all(staging.map((buffer) => buffer.mapAsync(GPUMapMode.READ)));
    return staging.map((buffer) => buffer.getMappedRange().slice(0));
  } finally {
    for (const buffer of staging) buffer.destroy();
  }
}

/**
 * Mesa's Vulkan driver prints `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` on
 * every adapter request unless that variable names a private folder, and a successful run must print
 * no line starting with `error:`. When it is unset or not a folder only its owner can enter, this
 * points it at a fresh 0700 folder for the rest of the process (removed when the process ends), before
 * the first request. Without permission to read or set the variable, nothing changes.
 */
function ensureRuntimeDir(): void {
  if (!("Deno" in globalThis)) return; // a browser (the playground) has no environment to mend
  try {
    const current = Deno.env.get("XDG_RUNTIME_DIR");
    if (current !== undefined && isPrivateFolder(current)) return;
    const folder = Deno.makeTempDirSync({ prefix: "xdg-runtime-" });
    Deno.chmodSync(folder, 0o700);
    Deno.env.set("XDG_RUNTIME_DIR", folder);
    globalThis.addEventListener("unload", () => Deno.removeSync(folder, { recursive: true }));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
  }
}

/**
 * Deno's WebGPU starts every backend wgpu has for the platform unless `DENO_WEBGPU_BACKEND` names
 * some: on Linux, Vulkan and OpenGL (through Mesa's EGL). Under `deno test`, which starts WebGPU
 * afresh in every test module, EGL sometimes aborts the process at exit: measured here, 30 modules
 * that each request an adapter ended in glibc's "double free or corruption" in 10 of 40 runs with
 * every backend, 13 of 25 with OpenGL alone and none of 40 with Vulkan alone. So on Linux, when the
 * variable is unset, this names Vulkan for the rest of the process, before the first request;
 * Mesa's and NVIDIA's Linux drivers ship Vulkan beside OpenGL. A value already set is kept; without
 * permission to read or set the variable, nothing changes.
 */
function chooseBackends(): void {
  if (!("Deno" in globalThis) || Deno.build.os !== "linux") return;
  try {
    if (Deno.env.get("DENO_WEBGPU_BACKEND") === undefined) Deno.env.set("DENO_WEBGPU_BACKEND", "vulkan");
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
  }
}

function isPrivateFolder(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isDirectory && info.mode !== null && (info.mode & 0o077) === 0;
  } catch {
    return false;
  }
}
