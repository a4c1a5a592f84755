// Matrix multiply with a fused epilogue:  C = epilogue(op(A) · op(B)).
//
//   op(A) is M×K: A is stored M×K, or K×M when TRANS_A.   op(B) is K×N: B is stored K×N, or N×K when TRANS_B.
//   A's stored rows may be indirect (A_ROWS): 0 row r, 1 row step.row_offset + r (a dataset chunk),
//   2 row row_index[step.row_offset + r] (a shuffled minibatch gathered from the resident dataset).
//   The batch dimension (M, or K when BATCH_IS_K) is step.rows; the others come from `dims`.
//   EPILOGUE: 0  C = P                          (plain product)
//             1  C = P + aux[j]                 (head logits      Z = X W + b)
//             2  C = max(P + aux[j], 0)         (hidden layer     Y = relu(X W + b))
//             3  C = P · [aux[i][j] > 0]        (input gradient through ReLU  dX = (dY Wᵀ) ⊙ [Y > 0])
//             4  SGD step of a layer: op(A) gains a row of ones (row M), so P's rows 0..M-1 are the
//                weight gradient Xᵀ dY and row M the bias gradient Σ_rows dY; then
//                C[i][j] -= dims.rate · P[i][j] (C is W) and aux[j] -= dims.bias_rate · P[M][j] (aux is b);
//                a part whose rate is 0 is frozen: it keeps its value exactly, so its bytes never change.
//             5  a layer's gradient alone, for shaders/optimizer.wgsl: op(A) gains the row of ones as in 4,
//                and C ((M+1)×N) = P: rows 0..M-1 the weight gradient, row M the bias gradient.
//             6  C = aux[i][j] + dims.rate · P   (a LoRA layer's weights  W = W₀ + s · A B)
//             7  C = dims.rate · P               (a LoRA factor's gradient, s · G Bᵀ or s · Aᵀ G)
//   STATIC_SHAPE: M, N and K all come from `dims` (the LoRA products, which have no batch dimension).
//
// Two schedules of the same sum, one entry point each:
//   main_tiled    each workgroup owns a 32×32 tile of C; its 8×8 invocations each own a 4×4 block, and
//                 K is walked 32 at a time through workgroup memory (fast on hardware GPUs).
//   main_blocked  each invocation owns a 4×4 block and reads A and B straight from memory, with no
//                 barriers (fast on CPU-emulated adapters such as llvmpipe, where barriers are costly).
//                 When M, N and K are multiples of 4 it reads 4×4 blocks of op(A) and op(B) as four
//                 vec4 loads each, walking K four at a time.
// Both read 0 outside op(A) and op(B), so any M, N, K is correct, and both add the products in the
// same order, so they give identical results.
//
// Bindings (group 0): 0 A, 1 B, 2 C (read_write), 3 aux (read_write: bias, ReLU output or unused),
//   4 row_index (u32), 5 dims {m, n, k, rate, bias_rate}, 6 step {row_offset, rows, slot, grad_scale} (dynamic offset),
//   7 A again and 8 B again, as array<vec4f>.
// Dispatch: ceil(N / 32) × ceil(M' / 32) workgroups, where M' is M, or M + 1 for epilogues 4 and 5.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override A_ROWS: u32 = 0u;
override BATCH_IS_K: bool = false;
override EPILOGUE: u32 = 0u;
override STATIC_SHAPE: bool = false;

struct Dims { m: u32, n: u32, k: u32, rate: f32, bias_rate: f32 }
struct Step { row_offset: u32, rows: u32, slot: u32, grad_scale: f32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read_write> aux: array<f32>;
@group(0) @binding(4) var<storage, read> row_index: array<u32>;
@group(0) @binding(5) var<uniform> dims: Dims;
@group(0) @binding(6) var<uniform> step: Step;
// The same A and B seen as vec4s, for main_blocked's aligned path (bound to the same buffers as 0 and 1).
@group(0) @binding(7) var<storage, read> a4: array<vec4f>;
@group(0) @binding(8) var<storage, read> b4: array<vec4f>;

const TILE = 32u;
const BLOCK = 4u;
const THREADS = 64u;
const SGD = 4u;
const GRADIENT = 5u;
/** Epilogues 4 and 5 work on the weight gradient with the bias gradient as an extra row M. */
override BIAS_ROW: bool = EPILOGUE == SGD || EPILOGUE == GRADIENT;

var<workgroup> a_tile: array<array<f32, TILE>, TILE>; // [row of C][k]
var<workgroup> b_tile: array<array<f32, TILE>, TILE>; // [k][column of C]

struct Shape { m: u32, n: u32, k: u32 }

fn shape() -> Shape {
  if (STATIC_SHAPE) { return Shape(dims.m, dims.n, dims.k); }
  return Shape(select(step.rows, dims.m, BATCH_IS_K), dims.n, select(dims.k, step.rows, BATCH_IS_K));
}

fn stored_row(r: u32) -> u32 {
  if (A_ROWS == 1u) { return step.row_offset + r; }
  if (A_ROWS == 2u) { return row_index[step.row_offset + r]; }
  return r;
}

fn op_a(i: u32, p: u32, s: Shape) -> f32 {
  if (p >= s.k) { return 0.0; }
  if (BIAS_ROW && i == s.m) { return 1.0; } // the row of ones that yields the bias gradient
  if (i >= s.m) { return 0.0; }
  if (TRANS_A) { return a[stored_row(p) * s.m + i]; }
  return a[stored_row(i) * s.k + p];
}

fn op_b(p: u32, j: u32, s: Shape) -> f32 {
  if (p >= s.k || j >= s.n) { return 0.0; }
  if (TRANS_B) { return b[j * s.k + p]; }
  return b[p * s.n + j];
}

fn store(i: u32, j: u32, s: Shape, product: f32) {
  let rows = select(s.m, s.m + 1u, BIAS_ROW);
  if (i >= rows || j >= s.n) { return; }
  let at = i * s.n + j;
  switch EPILOGUE {
    case 1u: { c[at] = product + aux[j]; }
    case 2u: { c[at] = max(product + aux[j], 0.0); }
    case 3u: { c[at] = select(0.0, product, aux[at] > 0.0); }
    case 4u: {
      // A frozen part (rate 0) keeps its value exactly, whatever the product (even inf or NaN).
      if (i < s.m) {
        c[at] = select(c[at] - dims.rate * product, c[at], dims.rate == 0.0);
      } else {
        aux[j] = select(aux[j] - dims.bias_rate * product, aux[j], dims.bias_rate == 0.0);
      }
    }
    case 6u: { c[at] = aux[at] + dims.rate * product; }
    case 7u: { c[at] = dims.rate * product; }
    default: { c[at] = product; }
  }
}

@compute @workgroup_size(8, 8)
fn main_tiled(
  @builtin(workgroup_id) group: vec3u,
  @builtin(local_invocation_id) local: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let s = shape();
  let row0 = group.y * TILE;
  let col0 = group.x * TILE;
  var acc: array<array<f32, BLOCK>, BLOCK>;
  for (var p0 = 0u; p0 < s.k; p0 += TILE) {
    for (var e = lane; e < TILE * TILE; e += THREADS) {
      let r = e / TILE;
      let q = e % TILE;
      a_tile[r][q] = op_a(row0 + r, p0 + q, s);
      b_tile[r][q] = op_b(p0 + r, col0 + q, s);
    }
    workgroupBarrier();
    for (var q = 0u; q < TILE; q++) {
      var a_block: array<f32, BLOCK>;
      var b_block: array<f32, BLOCK>;
      for (var t = 0u; t < BLOCK; t++) {
        a_block[t] = a_tile[local.y * BLOCK + t][q];
        b_block[t] = b_tile[q][local.x * BLOCK + t];
      }
      for (var i = 0u; i < BLOCK; i++) {
        for (var j = 0u; j < BLOCK; j++) { acc[i][j] = fma(a_block[i], b_block[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < BLOCK; i++) {
    for (var j = 0u; j < BLOCK; j++) {
      store(row0 + local.y * BLOCK + i, col0 + local.x * BLOCK + j, s, acc[i][j]);
    }
  }
}

@compute @workgroup_size(8, 8)
fn main_blocked(@builtin(global_invocation_id) id: vec3u) {
  let s = shape();
  let row0 = id.y * BLOCK;
  let col0 = id.x * BLOCK;
  // Blocks wholly inside an aligned product take vec4 loads; the rest (and the row of ones, row M,
  // of epilogues 4 and 5) take the scalar path.
  let aligned = s.m % 4u == 0u && s.n % 4u == 0u && s.k % 4u == 0u && row0 + BLOCK <= s.m && col0 + BLOCK <= s.n;
  var acc: array<array<f32, BLOCK>, BLOCK>;
  if (aligned) {
    acc = blocked_vec4(row0, col0, s);
  } else {
    for (var p = 0u; p < s.k; p++) {
      var a_block: array<f32, BLOCK>;
      var b_block: array<f32, BLOCK>;
      for (var t = 0u; t < BLOCK; t++) {
        a_block[t] = op_a(row0 + t, p, s);
        b_block[t] = op_b(p, col0 + t, s);
      }
      for (var i = 0u; i < BLOCK; i++) {
        for (var j = 0u; j < BLOCK; j++) { acc[i][j] = fma(a_block[i], b_block[j], acc[i][j]); }
      }
    }
  }
  for (var i = 0u; i < BLOCK; i++) {
    for (var j = 0u; j < BLOCK; j++) { store(row0 + i, col0 + j, s, acc[i][j]); }
  }
}

// The block at (row0, col0), wholly inside C, when M, N, K are multiples of 4: each step of four along K loads a 4×4
// block of op(A) and of op(B) as four vec4s each, in whichever direction their storage is contiguous,
// and adds the products in the same order as the scalar path.
fn blocked_vec4(row0: u32, col0: u32, s: Shape) -> array<array<f32, BLOCK>, BLOCK> {
  var acc: array<vec4f, BLOCK>; // acc[i] holds C[row0 + i][col0 .. col0 + 3]
  for (var p0 = 0u; p0 < s.k; p0 += BLOCK) {
    var a_block: mat4x4f; // a_block[q][i] = op(A)[row0 + i][p0 + q]
    var b_rows: mat4x4f; // b_rows[q][j] = op(B)[p0 + q][col0 + j]
    for (var t = 0u; t < BLOCK; t++) {
      if (TRANS_A) { a_block[t] = a4[(stored_row(p0 + t) * s.m + row0) / 4u]; }
      else { a_block[t] = a4[(stored_row(row0 + t) * s.k + p0) / 4u]; }
      if (TRANS_B) { b_rows[t] = b4[((col0 + t) * s.k + p0) / 4u]; }
      else { b_rows[t] = b4[((p0 + t) * s.n + col0) / 4u]; }
    }
    if (!TRANS_A) { a_block = transpose(a_block); }
    if (TRANS_B) { b_rows = transpose(b_rows); }
    for (var q = 0u; q < BLOCK; q++) {
      for (var i = 0u; i < BLOCK; i++) { acc[i] = fma(vec4f(a_block[q][i]), b_rows[q], acc[i]); }
    }
  }
  var out: array<array<f32, BLOCK>, BLOCK>;
  for (var i = 0u; i < BLOCK; i++) {
    for (var j = 0u; j < BLOCK; j++) { out[i][j] = acc[i][j]; }
  }
  return out;
}
