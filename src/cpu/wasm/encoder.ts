/**
 * Just enough of the WebAssembly binary format to write the CPU kernels: one imported memory, a few
 * functions, their exports. Instructions are plain byte arrays built by the helpers in {@linkcode op}.
 *
 * @module
 */

/** Unsigned LEB128. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128 (for i32 constants). */
export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Value types. */
export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

const simd = (code: number, ...rest: number[]) => [0xfd, ...uleb(code), ...rest];
const memarg = (align: number, offset = 0) => [...uleb(align), ...uleb(offset)];

/** The instructions the kernels use. Memory offsets are in bytes; every access declares 4-byte alignment. */
export const op = {
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32RemU: [0x70],
  i32Shl: [0x74],
  i32LtU: [0x49],
  i32GeU: [0x4f],
  f32Load: (offset = 0) => [0x2a, ...memarg(2, offset)],
  f32Store: (offset = 0) => [0x38, ...memarg(2, offset)],
  f32Add: [0x92],
  f32Mul: [0x94],
  f32Const0: [0x43, 0, 0, 0, 0],
  v128Load: (offset = 0) => simd(0x00, ...memarg(2, offset)),
  v128Store: (offset = 0) => simd(0x0b, ...memarg(2, offset)),
  /** Loads one f32 and fills all four lanes with it. */
  v128Load32Splat: (offset = 0) => simd(0x09, ...memarg(2, offset)),
  v128Zero: simd(0x0c, ...new Array(16).fill(0)),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  /** `a · b + c`, fused or not as the machine prefers (relaxed SIMD). */
  f32x4RelaxedMadd: simd(0x105),
  /** A block whose `br 0` jumps past its end. */
  block: (...body: number[][]) => [0x02, 0x40, ...body.flat(), 0x0b],
  /** A loop whose `br 0` jumps back to its start. */
  loop: (...body: number[][]) => [0x03, 0x40, ...body.flat(), 0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
};

/** One function: parameter and result types, extra locals (type, count), body instructions. */
export interface FunctionSpec {
  readonly name: string;
  readonly params: readonly number[];
  readonly locals: readonly [number, number][];
  readonly body: readonly number[][];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

/** A module importing `env.memory` (at least one page) and exporting `functions`, none returning a value. */
export function encodeModule(functions: readonly FunctionSpec[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...uleb(f.params.length), ...f.params, 0]);
  const memoryImport = [...name("env"), ...name("memory"), 0x02, 0x00, ...uleb(1)];
  const exports = functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals.map(([type, count]) => [...uleb(count), type])), ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}
