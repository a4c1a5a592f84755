/**
 * The WebAssembly SIMD matrix products, written as a generator: {@linkcode gemmFunction} returns
 * the functions for the module `module.ts` assembles,
 *
 *     gemm(a, b, c, m, k, n, panel, lda, ldc, bias, epilogue)
 *         C[m×n] = A[m×k] · B[k×n], row-major f32, byte offsets into memory; rows of A are lda
 *         floats apart (k when A is whole), rows of B and C ldc (n when they are whole); `panel`
 *         is scratch for panelFloats(k) floats. With `epilogue` EPILOGUE.BIAS each row of C gets
 *         the n floats at `bias` added, C = A · B + b; with EPILOGUE.BIAS_RELU then max(C, 0): a
 *         hidden layer's forward pass in one call. EPILOGUE.STORE leaves `bias` unread.
 *     gemm_at(…)  the same with A stored transposed, k rows of lda ≥ m floats: C = Aᵀ · B
 *     gemm_bt(…)  the same with B stored transposed, n rows of k floats: C = A · Bᵀ
 *
 * The strides let a thread compute a block of C's rows or columns in place: rows i0… of C are
 * `gemm(a + 4·i0·lda, b, c + 4·i0·ldc, rows, …)`, columns j0… are `gemm(a, b + 4·j0, c + 4·j0, m, k,
 * cols, …, bias + 4·j0, …)` (B's rows j0… in `gemm_bt`).
 *
 * For each band of 8 columns, B's k × 8 panel is first copied into contiguous scratch (zero-padded
 * when fewer than 8 columns remain), so the main loop reads it sequentially. The main loop keeps a
 * 6×8 block of C in twelve f32x4 accumulators (as many as fit in registers) for the whole of k: per
 * step it loads the panel's two f32x4 and loads-and-splats one value of each of A's six rows, so every
 * load feeds six or eight multiply-adds and C is stored once. The k loop takes eight steps per
 * iteration. Rows past the last full block take the same loop one row at a time, and a band narrower
 * than 8 columns stores only its real columns.
 *
 * The transposed forms need no transposed copy. With A stored transposed, the six values of a step
 * sit side by side in one row of A, so one pointer serves them all, moving down A's rows. With B
 * stored transposed, the panel is packed from B's rows instead, each read contiguously into a column
 * of the panel.
 *
 * Every element of C is therefore the same chain of multiply-adds, `acc = a[i][p]·b[p][j] + acc` for
 * p = 0, 1, …, k−1 from acc = 0, whichever block computes it: any split of C's rows or columns
 * (between threads) gives bit-identical results. `relaxed` multiplies and adds with
 * `f32x4.relaxed_madd` (fused where the machine has FMA); `simd` uses `f32x4.mul` then `f32x4.add`,
 * for engines without relaxed SIMD.
 *
 * @module
 */

import { addTo, forLoop, type FunctionSpec, I32, op, V128 } from "./encoder.ts";

/** Which multiply-add the module uses. */
export type GemmVariant = "relaxed" | "simd";
/** How the operands are stored: `AB` both row-major; `AtB` A transposed (k×m); `ABt` B transposed (n×k). */
export type GemmForm = "AB" | "AtB" | "ABt";

/** Each form's export name. */
export const GEMM_EXPORTS = { AB: "gemm", AtB: "gemm_at", ABt: "gemm_bt" } as const;
/** The forms, in export order (a worker's job names its form by index). */
export const GEMM_FORMS: readonly GemmForm[] = ["AB", "AtB", "ABt"];

/** Rows of C per block: 6 rows × 2 f32x4 = 12 accumulators, the most that stay in registers. */
const ROWS = 6;
/** Steps along k per iteration of the main loop (a power of two). */
const UNROLL = 8;

/** What a product does with each block of C once it is summed: store it, or add the bias first (then ReLU). */
export const EPILOGUE = { STORE: 0, BIAS: 1, BIAS_RELU: 2 } as const;

/**
 * Floats of scratch `gemm` needs for a product with `k` terms: the k × 8 panel, a 6 × 8 tile, and
 * the current band's 8 values of the bias (zero-padded like the panel).
 */
export function panelFloats(k: number): number {
  return 8 * k + 8 * ROWS + 8;
}

// Parameters and locals, by index.
const [A, B, C, M, K, N, PANEL, LDA, LDC, BIAS, EPI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
/** How many parameters each product takes: the length of `GemmArgs`. */
export const GEMM_PARAMS = 11;
/** Which of a product's parameters is its panel scratch. */
export const PANEL_PARAM: number = PANEL;
const [I0, J0, P, M6, W, BP, CP, J] = [11, 12, 13, 14, 15, 16, 17, 18];
const AP0 = 19; // A row-major: AP0..AP0+5 point into A's six rows; AtB: AP0 points into A's current row
const A_STRIDE = AP0 + ROWS; // the bytes from one row of A to the next
const I32_LOCALS = A_STRIDE + 1 - GEMM_PARAMS;
const ACC0 = A_STRIDE + 1; // row r: columns 0-3 at ACC0 + 2r, columns 4-7 at ACC0 + 2r + 1
const [B0, B1, AV] = [ACC0 + 2 * ROWS, ACC0 + 2 * ROWS + 1, ACC0 + 2 * ROWS + 2];

const { get, set, tee, i32 } = op;
const times4 = [...i32(2), ...op.i32Shl];
const rowList = (rows: number) => Array.from({ length: rows }, (_, r) => r);
/** Pushes the byte offset of element (row, col) of a row-major matrix with `stride` columns. */
const element = (row: number, col: number, stride: number) => [
  ...get(row),
  ...get(stride),
  ...op.i32Mul,
  ...get(col),
  ...op.i32Add,
  ...times4,
];
/** Pushes the address of the 6 × 8 tile that follows the panel's k rows of 32 bytes. */
const tile = [...get(PANEL), ...get(K), ...i32(5), ...op.i32Shl, ...op.i32Add];
/** Pushes the address of the band's 8 bias values, after the tile. */
const biasRow = [...tile, ...i32(32 * ROWS), ...op.i32Add];
/** Pushes 1 when the current band is a whole 8 columns wide, else 0. */
const wholeBand = [...get(W), ...i32(8), ...op.i32Eq];
/** Points CP at row p of the panel. */
const atPanelRow = [...get(PANEL), ...get(P), ...i32(5), ...op.i32Shl, ...op.i32Add, ...set(CP)];
/** Zeroes the 8 floats of the panel row at CP. */
const zeroPanelRow = [
  ...get(CP),
  ...op.v128Zero,
  ...op.v128Store(),
  ...get(CP),
  ...op.v128Zero,
  ...op.v128Store(16),
];

function madd(variant: GemmVariant, acc: number, b: number): number[] {
  const product = [...get(AV), ...get(b)];
  return variant === "relaxed"
    ? [...product, ...get(acc), ...op.f32x4RelaxedMadd, ...set(acc)]
    : [...product, ...op.f32x4Mul, ...get(acc), ...op.f32x4Add, ...set(acc)];
}

/**
 * One step along k at `unroll` (0 to UNROLL − 1): the panel's values at byte offset 32·unroll; A's at
 * 4·unroll in each row (AB), or side by side in the current row, which then moves one row on (AtB).
 */
function blockStep(variant: GemmVariant, form: GemmForm, rows: number, unroll: number): number[] {
  const aValue = (r: number) =>
    form !== "AtB" ? [...get(AP0 + r), ...op.v128Load32Splat(4 * unroll)] : [
      ...get(AP0),
      ...op.v128Load32Splat(4 * r),
    ];
  return [
    ...get(BP),
    ...op.v128Load(32 * unroll),
    ...set(B0),
    ...get(BP),
    ...op.v128Load(32 * unroll + 16),
    ...set(B1),
    ...rowList(rows).flatMap((r) => [
      ...aValue(r),
      ...set(AV),
      ...madd(variant, ACC0 + 2 * r, B0),
      ...madd(variant, ACC0 + 2 * r + 1, B1),
    ]),
    ...(form === "AtB" ? addTo(AP0, get(A_STRIDE)) : []),
  ];
}

/** Advances the panel pointer by `steps` rows, and A's row pointers by `steps` values (A row-major). */
function advance(form: GemmForm, rows: number, steps: number): number[] {
  const aPointers = form !== "AtB" ? rowList(rows).flatMap((r) => addTo(AP0 + r, i32(4 * steps))) : [];
  return [...aPointers, ...addTo(BP, i32(32 * steps))];
}

/** The k loop: UNROLL steps at a time while that many remain, then one at a time. */
function kLoop(variant: GemmVariant, form: GemmForm, rows: number): number[] {
  const unrolled = [...get(K), ...i32(-UNROLL), ...op.i32And];
  const steps = Array.from({ length: UNROLL }, (_, u) => blockStep(variant, form, rows, u)).flat();
  return [
    ...forLoop(P, i32(0), unrolled, UNROLL, steps, advance(form, rows, UNROLL)),
    ...forLoop(P, unrolled, get(K), 1, blockStep(variant, form, rows, 0), advance(form, rows, 1)),
  ];
}

/** Copies B's columns j0 … j0+w−1 of every row into the panel, 32 bytes a row, zero-padded past w. */
function packPanel(): number[] {
  const rowPointers = [...get(B), ...element(P, J0, LDC), ...op.i32Add, ...set(BP), ...atPanelRow];
  const copyWhole = [
    ...[...get(CP), ...get(BP), ...op.v128Load(), ...op.v128Store()],
    ...[...get(CP), ...get(BP), ...op.v128Load(16), ...op.v128Store(16)],
  ];
  const copyPart = [
    ...zeroPanelRow,
    ...forLoop(J, i32(0), get(W), 1, [
      ...[...get(CP), ...get(J), ...times4, ...op.i32Add],
      ...[...get(BP), ...get(J), ...times4, ...op.i32Add, ...op.f32Load()],
      ...op.f32Store(),
    ]),
  ];
  return forLoop(P, i32(0), get(K), 1, rowPointers, wholeBand, op.ifElse(copyWhole, copyPart));
}

/** Stores the accumulators of a `rows` × 8 block at (i0, j0): whole when the band is 8 wide, else via the tile. */
function store(rows: number): number[] {
  const nextRow = addTo(CP, [...get(LDC), ...times4]);
  const whole = rowList(rows).flatMap((r) => [
    ...[...get(CP), ...get(ACC0 + 2 * r), ...op.v128Store()],
    ...[...get(CP), ...get(ACC0 + 2 * r + 1), ...op.v128Store(16)],
    ...nextRow,
  ]);
  const part = rowList(rows).flatMap((r) => [
    ...[...tile, ...get(ACC0 + 2 * r), ...op.v128Store(32 * r)],
    ...[...tile, ...get(ACC0 + 2 * r + 1), ...op.v128Store(32 * r + 16)],
    ...forLoop(J, i32(0), get(W), 1, [
      ...[...get(CP), ...get(J), ...times4, ...op.i32Add],
      ...[...tile, ...get(J), ...times4, ...op.i32Add, ...op.f32Load(32 * r)],
      ...op.f32Store(),
    ]),
    ...nextRow,
  ]);
  return [
    ...[...get(C), ...element(I0, J0, LDC), ...op.i32Add, ...set(CP)],
    ...[...wholeBand, ...op.ifElse(whole, part)],
  ];
}

/**
 * Copies B's columns j0 … j0+w−1 into the panel from B stored transposed (n rows of k floats): row
 * j0+c of the store, read contiguously, becomes column c of the panel; zero-padded past w.
 */
function packPanelTransposed(): number[] {
  const clear = forLoop(P, i32(0), get(K), 1, atPanelRow, zeroPanelRow);
  const copy = [...get(CP), ...get(BP), ...op.f32Load(), ...op.f32Store()];
  const column = [
    ...[
      ...get(J0),
      ...get(J),
      ...op.i32Add,
      ...get(K),
      ...op.i32Mul,
      ...times4,
      ...get(B),
      ...op.i32Add,
      ...set(BP),
    ],
    ...[...get(PANEL), ...get(J), ...times4, ...op.i32Add, ...set(CP)],
    ...forLoop(P, i32(0), get(K), 1, copy, addTo(BP, i32(4)), addTo(CP, i32(32))),
  ];
  return [...wholeBand, ...op.ifElse([], clear), ...forLoop(J, i32(0), get(W), 1, column)];
}

/** Points A's pointers at the first values of C's rows i0 … i0+rows−1, and the panel pointer at its start. */
function pointersAtBlock(form: GemmForm, rows: number): number[] {
  const pointers = form === "AtB" ? [...get(A), ...get(I0), ...times4, ...op.i32Add, ...set(AP0)] : [
    ...[...get(A), ...get(I0), ...get(A_STRIDE), ...op.i32Mul, ...op.i32Add, ...set(AP0)],
    ...rowList(rows).slice(1).flatMap((r) => [
      ...[...get(AP0 + r - 1), ...get(A_STRIDE), ...op.i32Add, ...set(AP0 + r)],
    ]),
  ];
  return [...pointers, ...get(PANEL), ...set(BP)];
}

/**
 * Adds the band's bias row to each of the block's accumulators, the same f32 addition as a separate
 * pass would make, then `pmax(acc, 0)` (ReLU with NaN and −0 kept, as in `step.ts`) when the
 * epilogue asks for it. B0 and B1 hold the bias: the k loop no longer needs them.
 */
function biasEpilogue(rows: number): number[] {
  const add = (acc: number, bias: number) => [...get(acc), ...get(bias), ...op.f32x4Add, ...set(acc)];
  const relu = (acc: number) => [...get(acc), ...op.v128Zero, ...op.f32x4Pmax, ...set(acc)];
  const accumulators = rowList(rows).flatMap((r) => [ACC0 + 2 * r, ACC0 + 2 * r + 1]);
  return [
    ...[...biasRow, ...op.v128Load(), ...set(B0), ...biasRow, ...op.v128Load(16), ...set(B1)],
    ...accumulators.flatMap((acc, i) => add(acc, i % 2 === 0 ? B0 : B1)),
    ...[...get(EPI), ...i32(EPILOGUE.BIAS_RELU), ...op.i32Eq],
    ...op.ifElse(accumulators.flatMap(relu), []),
  ];
}

/** C's rows i0 … i0+rows−1 in the current band: clear, run the k loop, apply the epilogue, store. */
function block(variant: GemmVariant, form: GemmForm, rows: number): number[] {
  const clear = rowList(rows).flatMap((r) => [
    ...[...op.v128Zero, ...set(ACC0 + 2 * r), ...op.v128Zero, ...set(ACC0 + 2 * r + 1)],
  ]);
  return [
    ...clear,
    ...pointersAtBlock(form, rows),
    ...kLoop(variant, form, rows),
    ...get(EPI),
    ...op.ifElse(biasEpilogue(rows), []),
    ...store(rows),
  ];
}

/** Copies the band's w bias values into the bias row, zero-padded to 8, when the epilogue reads them. */
function packBias(): number[] {
  const copy = [
    ...[...biasRow, ...get(J), ...times4, ...op.i32Add],
    ...[...get(BIAS), ...get(J0), ...get(J), ...op.i32Add, ...times4, ...op.i32Add, ...op.f32Load()],
    ...op.f32Store(),
  ];
  const pack = [
    ...[...biasRow, ...op.v128Zero, ...op.v128Store(), ...biasRow, ...op.v128Zero, ...op.v128Store(16)],
    ...forLoop(J, i32(0), get(W), 1, copy),
  ];
  return [...get(EPI), ...op.ifElse(pack, [])];
}

/** The product for operands stored as `form`, with `variant`'s multiply-add. */
export function gemmFunction(variant: GemmVariant, form: GemmForm): FunctionSpec {
  const fullRows = [...get(M), ...get(M), ...i32(ROWS), ...op.i32RemU, ...op.i32Sub, ...set(M6)];
  // w = min(8, n − j0): the band's real columns.
  const bandWidth = [
    ...[...i32(8), ...get(N), ...get(J0), ...op.i32Sub, ...tee(W)],
    ...[...i32(8), ...get(W), ...op.i32LtU, ...op.select, ...set(W)],
  ];
  const band = [
    ...bandWidth,
    ...(form === "ABt" ? packPanelTransposed() : packPanel()),
    ...packBias(),
    ...forLoop(I0, i32(0), get(M6), ROWS, block(variant, form, ROWS)),
    ...forLoop(I0, get(M6), get(M), 1, block(variant, form, 1)),
  ];
  return {
    name: GEMM_EXPORTS[form],
    params: Array(GEMM_PARAMS).fill(I32),
    locals: [[I32, I32_LOCALS], [V128, 2 * ROWS + 3]],
    body: [fullRows, [...get(LDA), ...times4, ...set(A_STRIDE)], forLoop(J0, i32(0), get(N), 8, band)],
  };
}
