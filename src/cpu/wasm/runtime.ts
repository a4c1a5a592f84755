/**
 * Loading the committed WebAssembly kernels, and choosing the best this runtime accepts: relaxed
 * SIMD, else plain SIMD, else none (the TypeScript kernels then serve).
 *
 * @module
 */

import { WASM_FILES } from "./build.ts";
import type { GemmVariant } from "./gemm.ts";

/** The best variant whose module `validate` accepts, or null when neither is. */
export function detectWasm(
  read: (variant: GemmVariant) => Uint8Array<ArrayBuffer> = readModule,
  validate: (bytes: Uint8Array<ArrayBuffer>) => boolean = (bytes) => WebAssembly.validate(bytes),
): GemmVariant | null {
  for (const variant of ["relaxed", "simd"] as const) {
    if (validate(read(variant))) return variant;
  }
  return null;
}

/** The committed bytes of one variant's module. */
export function readModule(variant: GemmVariant): Uint8Array<ArrayBuffer> {
  return Deno.readFileSync(new URL(WASM_FILES[variant], import.meta.url));
}

const compiled = new Map<GemmVariant, WebAssembly.Module>();

/** One variant's module, read and compiled once per process. */
function compiledModule(variant: GemmVariant): WebAssembly.Module {
  let module = compiled.get(variant);
  if (module === undefined) compiled.set(variant, module = new WebAssembly.Module(readModule(variant)));
  return module;
}

/** The module's export: byte offsets of A, B, C and the panel scratch, and the sizes. */
type GemmExport = (a: number, b: number, c: number, m: number, k: number, n: number, panel: number) => void;

/**
 * A WebAssembly memory with the gemm kernel instantiated on it. Operands must be views into
 * `memory` (from {@linkcode WasmGemm.alloc}); the kernel reads and writes them in place.
 */
export class WasmGemm {
  readonly memory: WebAssembly.Memory;
  readonly #gemm: GemmExport;
  #next = 0;

  /** Instantiates `variant` on a memory of `bytes` bytes (rounded up to 64 KiB pages). */
  constructor(readonly variant: GemmVariant, bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
    const instance = new WebAssembly.Instance(compiledModule(variant), {
      env: { memory: this.memory },
    });
    this.#gemm = instance.exports.gemm as GemmExport;
  }

  /** `count` floats of the memory, 16-byte aligned; throws when the memory is full. */
  alloc(count: number): Float32Array<ArrayBuffer> {
    const at = this.#next;
    const end = at + Math.ceil(count / 4) * 16;
    if (end > this.memory.buffer.byteLength) throw new RangeError("WasmGemm: memory full");
    this.#next = end;
    return new Float32Array(this.memory.buffer as ArrayBuffer, at, count);
  }

  /** `C[m×n] = A[m×k] · B[k×n]` on views from {@linkcode alloc}; `panel` needs `8k` floats. */
  gemm(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    k: number,
    n: number,
    panel: Float32Array,
  ): void {
    this.#gemm(a.byteOffset, b.byteOffset, c.byteOffset, m, k, n, panel.byteOffset);
  }
}
