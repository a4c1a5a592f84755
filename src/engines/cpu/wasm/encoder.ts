/**
 * Just enough of the WebAssembly binary format to write the CPU kernels: one imported shared memory,
 * imported and defined functions, their exports. Instructions are plain byte arrays built by the
 * helpers in {@linkcode op}.
 *
 * @module
 */

/** Unsigned LEB128. */
function uleb(value: number): number[] {
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
function sleb(value: number): number[] {
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
export const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;

const simd = (code: number, ...rest: number[]) => [0xfd, ...uleb(code), ...rest];
const memarg = (align: number, offset = 0) => [...uleb(align), ...uleb(offset)];

/** The instructions the kernels use. Memory offsets are in bytes; accesses declare 4-byte alignment, 8 for f64. */
export const op = {
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32: (value: number) => [0x41, ...sleb(value)],
  f32: (value: number) => [0x43, ...new Uint8Array(new Float32Array([value]).buffer)],
  i32Load: (offset = 0) => [0x28, ...memarg(2, offset)],
  i32Store: (offset = 0) => [0x36, ...memarg(2, offset)],
  i32Eq: [0x46],
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
  f32Const0: [0x43, 0, 0, 0, 0],
  f32Gt: [0x5e],
  f32Le: [0x5f],
  f32DemoteF64: [0xb6],
  f64Load: (offset = 0) => [0x2b, ...memarg(3, offset)],
  f64Store: (offset = 0) => [0x39, ...memarg(3, offset)],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f64PromoteF32: [0xbb],
  f64ConvertI32U: [0xb8],
  f64Const0: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  /** Pops c, b, a: a when c is non-zero, else b. */
  select: [0x1b],
  call: (fn: number) => [0x10, ...uleb(fn)],
  v128Load: (offset = 0) => simd(0x00, ...memarg(2, offset)),
  v128Store: (offset = 0) => simd(0x0b, ...memarg(2, offset)),
  /** Loads 8 bytes (two f32) into the low half, zeroing the high half. */
  v128Load64Zero: (offset = 0) => simd(0x5d, ...memarg(2, offset)),
  /** Stores the low 8 bytes (two f32). */
  v128Store64Low: (offset = 0) => simd(0x5b, ...memarg(2, offset), 0),
  /** Loads one f32 and fills all four lanes with it. */
  v128Load32Splat: (offset = 0) => simd(0x09, ...memarg(2, offset)),
  v128Zero: simd(0x0c, ...new Array(16).fill(0)),
  f32x4Le: simd(0x45),
  /** `a & ~b`. */
  v128AndNot: simd(0x4f),
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  /** The two low f32 lanes widened to f64: exactly, as f64.promote_f32 does each. */
  f64x2PromoteLow: simd(0x5f),
  /** Each f64 lane rounded to f32 (as f32.demote_f64), into the two low lanes; the high two are 0. */
  f32x4DemoteZero: simd(0x5e),
  f64x2Splat: simd(0x14),
  f64x2Sub: simd(0xf1),
  f64x2Mul: simd(0xf2),
  /** `pmax(a, b) = a < b ? b : a` lane-wise, so a NaN in `a` stays. */
  f32x4Pmax: simd(0xeb),
  /** `a · b + c`, fused or not as the machine prefers (relaxed SIMD). */
  f32x4RelaxedMadd: simd(0x105),
  /** A block whose `br 0` jumps past its end. */
  block: (...body: number[][]) => [0x02, 0x40, ...body.flat(), 0x0b],
  /** A loop whose `br 0` jumps back to its start. */
  loop: (...body: number[][]) => [0x03, 0x40, ...body.flat(), 0x0b],
  /** Pops a condition: runs `then` when it is non-zero, else `otherwise`. */
  ifElse: (then: number[], otherwise: number[]) => [0x04, 0x40, ...then, 0x05, ...otherwise, 0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
};

const { get, set, i32 } = op;

/** `local += <value pushed by bytes>` (i32). */
export const addTo = (
  local: number,
  bytes: number[],
): number[] => [...get(local), ...bytes, ...op.i32Add, ...set(local)];

/** `for (local = from; local < limit; local += step) body`; `from` and `limit` push the bounds (i32, unsigned). */
export const forLoop = (
  local: number,
  from: number[],
  limit: number[],
  step: number,
  ...body: number[][]
): number[] => [
  ...from,
  ...set(local),
  ...op.block(op.loop(
    [...get(local), ...limit, ...op.i32GeU, ...op.brIf(1)],
    ...body,
    addTo(local, i32(step)),
    op.br(0),
  )),
];

/** A function signature: parameter and result types. */
export interface Signature {
  /** Value types ({@linkcode I32}, {@linkcode F64}, …), which the body reads as locals 0, 1, … in order. */
  readonly params: readonly number[];
  /** Value types of the results; none when omitted. */
  readonly results?: readonly number[];
}

/** A host function the module calls, imported as `env.<name>`. */
export interface ImportSpec extends Signature {
  /** The field under `env` the host must supply, e.g. `"exp"`. */
  readonly name: string;
}

/** One exported function: its signature, extra locals (type, count), body instructions. */
export interface FunctionSpec extends Signature {
  /** The export name, e.g. `"gemm"`. */
  readonly name: string;
  /** `[type, count]` runs of locals, numbered on from the last parameter in this order. */
  readonly locals: readonly [number, number][];
  /** Instruction bytes, concatenated in order; {@linkcode encodeModule} adds the final `end`. */
  readonly body: readonly number[][];
}

/** The most 64 KiB pages a shared memory may grow to: all of wasm32's 4 GiB. */
export const MAX_PAGES = 65536;

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

function signature({ params, results = [] }: Signature): number[] {
  return [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];
}

/**
 * A module importing `env.memory` (shared, at least one page, at most {@linkcode MAX_PAGES}) and the
 * host functions `imports`, which take function indices 0, 1, …, before `functions`; every function
 * of `functions` is exported under its name.
 */
export function encodeModule(
  imports: readonly ImportSpec[],
  functions: readonly FunctionSpec[],
): Uint8Array<ArrayBuffer> {
  const types = [...imports, ...functions].map(signature);
  const memoryImport = [...name("env"), ...name("memory"), 0x02, 0x03, ...uleb(1), ...uleb(MAX_PAGES)];
  const functionImports = imports.map((f, i) => [...name("env"), ...name(f.name), 0x00, ...uleb(i)]);
  const exports = functions.map((f, i) => [...name(f.name), 0x00, ...uleb(imports.length + i)]);
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals.map(([type, count]) => [...uleb(count), type])), ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport, ...functionImports])),
    ...section(3, vector(functions.map((_, i) => uleb(imports.length + i)))),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}
