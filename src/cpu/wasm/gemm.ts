/**
 * The WebAssembly SIMD matrix product, written as a generator: `gemmModule(variant)` returns the
 * bytes of a module exporting
 *
 *     gemm(a, b, c, m, k, n, panel)   C[m×n] = A[m×k] · B[k×n], row-major f32, byte offsets into
 *                                     memory; `panel` is scratch space for k × 8 floats
 *
 * For each band of 8 columns, B's k × 8 panel is first copied into contiguous scratch, so the main
 * loop reads it sequentially. The main loop keeps a 6×8 block of C in twelve f32x4 accumulators (as
 * many as fit in registers) for the whole of k: per step it loads the panel's two f32x4 and
 * loads-and-splats one value of each of A's six rows, so every load feeds six or eight multiply-adds
 * and C is stored once. The k loop takes eight steps per iteration. Rows and columns past the last full block take a scalar
 * loop. `relaxed` multiplies and adds with `f32x4.relaxed_madd` (fused where the machine has FMA);
 * `simd` uses `f32x4.mul` then `f32x4.add`, for engines without relaxed SIMD.
 *
 * @module
 */

import { encodeModule, F32, I32, op, V128 } from "./encoder.ts";

/** Which multiply-add the module uses. */
export type GemmVariant = "relaxed" | "simd";

/** Rows of C per block: 6 rows × 2 f32x4 = 12 accumulators, the most that stay in registers. */
const ROWS = 6;
/** Steps along k per iteration of the main loop (a power of two). */
const UNROLL = 8;
const ROW_LIST = Array.from({ length: ROWS }, (_, r) => r);

// Parameters and locals, by index.
const [A, B, C, M, K, N, PANEL] = [0, 1, 2, 3, 4, 5, 6];
const [I0, J0, P, M6, N8, BP, CP, I, J] = [7, 8, 9, 10, 11, 12, 13, 14, 15];
const AP0 = 16; // AP0..AP0+5: pointers into A's six rows
const I32_LOCALS = AP0 + ROWS - 7;
const ACC0 = AP0 + ROWS; // row r: columns 0-3 at ACC0 + 2r, columns 4-7 at ACC0 + 2r + 1
const [B0, B1, AV] = [ACC0 + 2 * ROWS, ACC0 + 2 * ROWS + 1, ACC0 + 2 * ROWS + 2];
const SUM = AV + 1;

const { get, set, tee, i32 } = op;
const add = (local: number, bytes: number[]) => [...get(local), ...bytes, ...op.i32Add, ...set(local)];
const times4 = [...i32(2), ...op.i32Shl];
/** Pushes the byte offset of element (row, col) of a row-major matrix with `stride` columns. */
const element = (row: number, col: number, stride: number) => [
  ...get(row),
  ...get(stride),
  ...op.i32Mul,
  ...get(col),
  ...op.i32Add,
  ...times4,
];
/** `for (local = from; local < limit; local += step) body`; `from` and `limit` are instructions that push the bounds. */
const forLoop = (local: number, from: number[], limit: number[], step: number, ...body: number[][]) => [
  ...from,
  ...set(local),
  ...op.block(op.loop(
    [...get(local), ...limit, ...op.i32GeU, ...op.brIf(1)],
    ...body,
    add(local, i32(step)),
    op.br(0),
  )),
];

function madd(variant: GemmVariant, acc: number, b: number): number[] {
  const product = [...get(AV), ...get(b)];
  return variant === "relaxed"
    ? [...product, ...get(acc), ...op.f32x4RelaxedMadd, ...set(acc)]
    : [...product, ...op.f32x4Mul, ...get(acc), ...op.f32x4Add, ...set(acc)];
}

/** One step along k at `unroll` (0 to UNROLL − 1): A's values at byte offset 4·unroll, the panel's at 32·unroll. */
function blockStep(variant: GemmVariant, unroll: number): number[] {
  return [
    ...get(BP),
    ...op.v128Load(32 * unroll),
    ...set(B0),
    ...get(BP),
    ...op.v128Load(32 * unroll + 16),
    ...set(B1),
    ...ROW_LIST.flatMap((r) => [
      ...get(AP0 + r),
      ...op.v128Load32Splat(4 * unroll),
      ...set(AV),
      ...madd(variant, ACC0 + 2 * r, B0),
      ...madd(variant, ACC0 + 2 * r + 1, B1),
    ]),
  ];
}

/** Advances A's row pointers by `steps` values and the panel pointer by `steps` rows. */
function advance(steps: number): number[] {
  return [...ROW_LIST.flatMap((r) => add(AP0 + r, i32(4 * steps))), ...add(BP, i32(32 * steps))];
}

/** The k loop: UNROLL steps at a time while that many remain, then one at a time. */
function kLoop(variant: GemmVariant): number[] {
  const k4 = [...get(K), ...i32(-UNROLL), ...op.i32And];
  return [
    ...forLoop(
      P,
      i32(0),
      k4,
      UNROLL,
      Array.from({ length: UNROLL }, (_, u) => blockStep(variant, u)).flat(),
      advance(UNROLL),
    ),
    ...forLoop(P, k4, get(K), 1, blockStep(variant, 0), advance(1)),
  ];
}

/** Copies B's columns j0 … j0+7 of every row into the panel, 32 bytes a row. */
function packPanel(): number[] {
  const source = [...get(B), ...element(P, J0, N), ...op.i32Add];
  return forLoop(P, i32(0), get(K), 1, [
    ...source,
    ...set(BP),
    ...get(PANEL),
    ...get(P),
    ...i32(5),
    ...op.i32Shl,
    ...op.i32Add,
    ...tee(CP),
    ...get(BP),
    ...op.v128Load(),
    ...op.v128Store(),
    ...get(CP),
    ...get(BP),
    ...op.v128Load(16),
    ...op.v128Store(16),
  ]);
}

function fullBlocks(variant: GemmVariant): number[] {
  const clear = ROW_LIST.flatMap((
    r,
  ) => [...op.v128Zero, ...set(ACC0 + 2 * r), ...op.v128Zero, ...set(ACC0 + 2 * r + 1)]);
  const rowPointers = [
    ...get(A),
    ...get(I0),
    ...get(K),
    ...op.i32Mul,
    ...times4,
    ...op.i32Add,
    ...set(AP0),
    ...ROW_LIST.slice(1).flatMap((
      r,
    ) => [...get(AP0 + r - 1), ...get(K), ...times4, ...op.i32Add, ...set(AP0 + r)]),
    ...get(PANEL),
    ...set(BP),
  ];
  const store = [
    ...get(C),
    ...element(I0, J0, N),
    ...op.i32Add,
    ...set(CP),
    ...ROW_LIST.flatMap((r) => [
      ...get(CP),
      ...get(ACC0 + 2 * r),
      ...op.v128Store(),
      ...get(CP),
      ...get(ACC0 + 2 * r + 1),
      ...op.v128Store(16),
      ...add(CP, [...get(N), ...times4]),
    ]),
  ];
  return forLoop(
    J0,
    i32(0),
    get(N8),
    8,
    packPanel(),
    forLoop(I0, i32(0), get(M6), ROWS, clear, rowPointers, kLoop(variant), store),
  );
}

/** `c[i][j] = Σ_p a[i][p] · b[p][j]` for every element outside the full 6×8 blocks. */
function edges(): number[] {
  const product = [
    ...get(A),
    ...element(I, P, K),
    ...op.i32Add,
    ...op.f32Load(),
    ...get(B),
    ...element(P, J, N),
    ...op.i32Add,
    ...op.f32Load(),
    ...op.f32Mul,
    ...get(SUM),
    ...op.f32Add,
    ...set(SUM),
  ];
  // Columns start at n8 on rows inside the full blocks, at 0 below them: select(n8, 0, i < m6).
  const firstColumn = [...get(N8), ...i32(0), ...get(I), ...get(M6), ...op.i32LtU, 0x1b];
  const oneElement = [
    ...op.f32Const0,
    ...set(SUM),
    ...forLoop(P, i32(0), get(K), 1, product),
    ...get(C),
    ...element(I, J, N),
    ...op.i32Add,
    ...get(SUM),
    ...op.f32Store(),
  ];
  return forLoop(I, i32(0), get(M), 1, forLoop(J, firstColumn, get(N), 1, oneElement));
}

/** The module's bytes for `variant`. */
export function gemmModule(variant: GemmVariant): Uint8Array<ArrayBuffer> {
  const limits = [
    ...get(M),
    ...get(M),
    ...i32(ROWS),
    ...op.i32RemU,
    ...op.i32Sub,
    ...set(M6),
    ...get(N),
    ...i32(-8),
    ...op.i32And,
    ...set(N8),
  ];
  return encodeModule([{
    name: "gemm",
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [[I32, I32_LOCALS], [V128, 2 * ROWS + 3], [F32, 1]],
    body: [limits, fullBlocks(variant), edges()],
  }]);
}
