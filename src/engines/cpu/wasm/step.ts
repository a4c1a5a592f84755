/**
 * The WebAssembly versions of the training step's other kernels (the TypeScript originals are in
 * `../reference_kernels.ts`), as functions for the module `module.ts` assembles; the bias and ReLU of
 * the forward pass are the products' epilogue (`gemm.ts`). Arguments are byte offsets into memory and
 * sizes, like `gemm`'s:
 *
 *     relu_backward(grad, act, count)    grad[i] = 0 where act[i] ≤ 0
 *     column_sums(g, out, m, n)          out[j] = Σ_i G[i][j]
 *     sgd_step(w, g, count, rate)        w[i] −= rate · g[i]
 *     softmax_xent(logits, labels, m, n, grad, withGrad, scale, out, exps)
 *                                        the summed loss (f64 at out) and correct count (i32 at
 *                                        out + 8); grad = (softmax − onehot) · scale when withGrad ≠ 0;
 *                                        exps is scratch for n f64 values
 *
 * Each computes exactly what its TypeScript original computes, bit for bit: the f32 additions are the
 * same roundings four lanes at a time, and the update and the loss work in f64 as JavaScript does,
 * calling the host's `Math.exp` and `Math.log` (imported as functions 0 and 1). The loss keeps each
 * row's exponentials for the gradient rather than computing them twice as the TypeScript does: an
 * exp costs about 20 ns, and the same call gives the same value.
 *
 * @module
 */

import { addTo, F64, forLoop, type FunctionSpec, I32, type ImportSpec, op, V128 } from "./encoder.ts";

/** The host functions the kernels import, in function-index order. */
export const STEP_IMPORTS: readonly ImportSpec[] = [
  { name: "exp", params: [F64], results: [F64] },
  { name: "log", params: [F64], results: [F64] },
];
const [EXP, LOG] = [0, 1];

const { get, set, i32 } = op;
/** Pushes `base + 4·index`: the address of float (or i32) `index` of the array at `base`. */
const at = (base: number[], index: number[]) => [...base, ...index, ...i32(2), ...op.i32Shl, ...op.i32Add];
/** Pushes the address of row `row` of the row-major matrix at `base` with `cols` columns. */
const rowAt = (base: number, row: number, cols: number) =>
  at(get(base), [...get(row), ...get(cols), ...op.i32Mul]);
/** `limit & −4`: the end of the part a loop can take four floats at a time. */
const multipleOf4 = (limit: number) => [...get(limit), ...i32(-4), ...op.i32And];
const load32 = (address: number[]) => [...address, ...op.f32Load()];
const promoted = (address: number[]) => [...load32(address), ...op.f64PromoteF32];

function reluBackward(): FunctionSpec {
  const [GRAD, ACT, COUNT, I, C4] = [0, 1, 2, 3, 4];
  const gradAt = at(get(GRAD), get(I)), actAt = at(get(ACT), get(I));
  // grad & ~(act <= 0): zero where the unit was off, like `if (act <= 0) grad = 0` (a NaN act keeps grad).
  const four = [...gradAt, ...gradAt, ...op.v128Load(), ...actAt, ...op.v128Load(), ...op.v128Zero];
  const one = [...gradAt, ...op.f32(0), ...load32(gradAt), ...load32(actAt), ...op.f32(0), ...op.f32Le];
  return {
    name: "relu_backward",
    params: [I32, I32, I32],
    locals: [[I32, 2]],
    body: [
      [...multipleOf4(COUNT), ...set(C4)],
      forLoop(I, i32(0), get(C4), 4, four, op.f32x4Le, op.v128AndNot, op.v128Store()),
      forLoop(I, get(C4), get(COUNT), 1, one, op.select, op.f32Store()),
    ],
  };
}

function columnSums(): FunctionSpec {
  const [G, OUT, M, N, I, J, N4, ROW] = [0, 1, 2, 3, 4, 5, 6, 7];
  const outAt = at(get(OUT), get(J)), gAt = at(get(ROW), get(J));
  return {
    name: "column_sums",
    params: [I32, I32, I32, I32],
    locals: [[I32, 4]],
    body: [
      forLoop(J, i32(0), get(N), 1, outAt, op.f32Const0, op.f32Store()),
      [...multipleOf4(N), ...set(N4)],
      forLoop(
        I,
        i32(0),
        get(M),
        1,
        [...rowAt(G, I, N), ...set(ROW)],
        forLoop(
          J,
          i32(0),
          get(N4),
          4,
          outAt,
          outAt,
          op.v128Load(),
          gAt,
          op.v128Load(),
          op.f32x4Add,
          op.v128Store(),
        ),
        forLoop(J, get(N4), get(N), 1, outAt, load32(outAt), load32(gAt), op.f32Add, op.f32Store()),
      ),
    ],
  };
}

function sgdStep(): FunctionSpec {
  const [W, G, COUNT, RATE, I, C2, RATE2] = [0, 1, 2, 3, 4, 5, 6];
  const wAt = at(get(W), get(I)), gAt = at(get(G), get(I));
  // Two lanes at a time in f64, the same roundings as the scalar `f32(w − rate · g)` of each lane.
  const widened = (address: number[]) => [...address, ...op.v128Load64Zero(), ...op.f64x2PromoteLow];
  const two = [...wAt, ...widened(wAt), ...get(RATE2), ...widened(gAt), ...op.f64x2Mul, ...op.f64x2Sub];
  const one = [...wAt, ...promoted(wAt), ...get(RATE), ...promoted(gAt), ...op.f64Mul, ...op.f64Sub];
  return {
    name: "sgd_step",
    params: [I32, I32, I32, F64],
    locals: [[I32, 2], [V128, 1]],
    body: [
      [...get(RATE), ...op.f64x2Splat, ...set(RATE2), ...get(COUNT), ...i32(-2), ...op.i32And, ...set(C2)],
      forLoop(I, i32(0), get(C2), 2, two, op.f32x4DemoteZero, op.v128Store64Low()),
      forLoop(I, get(C2), get(COUNT), 1, one, op.f32DemoteF64, op.f32Store()),
    ],
  };
}

function softmaxXent(): FunctionSpec {
  const [LOGITS, LABELS, M, N, GRAD, WITH_GRAD, SCALE, OUT, EXPS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [I, J, ROW, BEST, LABEL, CORRECT, MAX, SUM, LOSS, E] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const logit = (index: number) => promoted(at(get(ROW), get(index)));
  const expAt = [...get(EXPS), ...get(J), ...i32(3), ...op.i32Shl, ...op.i32Add];
  const shiftedExp = [...logit(J), ...get(MAX), ...op.f64Sub, ...op.call(EXP)];
  const sumExps = [
    ...expAt,
    ...shiftedExp,
    ...op.tee(E),
    ...op.f64Store(),
    ...get(SUM),
    ...get(E),
    ...op.f64Add,
  ];
  const findBest = forLoop(J, i32(1), get(N), 1, [
    ...[...get(J), ...get(BEST), ...load32(at(get(ROW), get(J))), ...load32(at(get(ROW), get(BEST)))],
    ...[...op.f32Gt, ...op.select, ...set(BEST)],
  ]);
  const gradient = forLoop(J, i32(0), get(N), 1, [
    ...at(get(GRAD), [...get(I), ...get(N), ...op.i32Mul, ...get(J), ...op.i32Add]),
    ...[...expAt, ...op.f64Load(), ...get(SUM), ...op.f64Div],
    ...[...get(J), ...get(LABEL), ...op.i32Eq, ...op.f64ConvertI32U, ...op.f64Sub],
    ...[...get(SCALE), ...op.f64Mul, ...op.f32DemoteF64, ...op.f32Store()],
  ]);
  const row = [
    ...[...rowAt(LOGITS, I, N), ...set(ROW)],
    ...[...i32(0), ...set(BEST), ...findBest, ...logit(BEST), ...set(MAX)],
    ...[...op.f64Const0, ...set(SUM)],
    ...forLoop(J, i32(0), get(N), 1, [...sumExps, ...set(SUM)]),
    ...[...at(get(LABELS), get(I)), ...op.i32Load(), ...set(LABEL)],
    ...[...get(LOSS), ...get(SUM), ...op.call(LOG), ...logit(LABEL), ...get(MAX), ...op.f64Sub, ...op.f64Sub],
    ...[...op.f64Add, ...set(LOSS)],
    ...addTo(CORRECT, [...get(BEST), ...get(LABEL), ...op.i32Eq]),
    ...get(WITH_GRAD),
    ...op.ifElse(gradient, []),
  ];
  return {
    name: "softmax_xent",
    params: [I32, I32, I32, I32, I32, I32, F64, I32, I32],
    locals: [[I32, 6], [F64, 4]],
    body: [
      [...op.f64Const0, ...set(LOSS), ...i32(0), ...set(CORRECT)],
      forLoop(I, i32(0), get(M), 1, row),
      [...get(OUT), ...get(LOSS), ...op.f64Store(), ...get(OUT), ...get(CORRECT), ...op.i32Store(8)],
    ],
  };
}

/** The step kernels, in export order. */
export const STEP_FUNCTIONS: readonly FunctionSpec[] = [
  reluBackward(),
  columnSums(),
  sgdStep(),
  softmaxXent(),
];
