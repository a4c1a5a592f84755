// Tiled matrix multiply with a fused epilogue:  C = epilogue(op(A) · op(B)).
//
//   op(A) is M×K: A is stored M×K, or K×M when TRANS_A.   op(B) is K×N: B is stored K×N, or N×K when TRANS_B.
//   A's stored rows may be indirect (A_ROWS): 0 row r, 1 row step.row_offset + r (a dataset chunk),
//   2 row row_index[step.row_offset + r] (a shuffled minibatch gathered from the resident dataset).
//   The batch dimension (M, or K when BATCH_IS_K) is step.rows; the others come from `dims`.
//   EPILOGUE: 0  C = P                       (weight gradient  dW = Aᵀ dY)
//             1  C = P + aux[j]              (head logits      Z = X W + b)
//             2  C = max(P + aux[j], 0)      (hidden layer     Y = relu(X W + b))
//             3  C = P · [aux[i][j] > 0]     (input gradient through ReLU  dX = (dY Wᵀ) ⊙ [Y > 0])
//
// Each workgroup owns a 32×32 tile of C; its 8×8 invocations each own a 4×4 block, so every value read
// from workgroup memory feeds four products. K is walked 32 at a time through workgroup memory; reads
// outside op(A) or op(B) load 0, so any M, N, K is correct.
//
// Bindings (group 0): 0 A, 1 B, 2 C (read_write), 3 aux (bias or ReLU output; unused by epilogue 0),
//   4 row_index (u32), 5 dims {m, n, k}, 6 step {row_offset, rows, slot, grad_scale} (dynamic offset).

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override A_ROWS: u32 = 0u;
override BATCH_IS_K: bool = false;
override EPILOGUE: u32 = 0u;

struct Dims { m: u32, n: u32, k: u32 }
struct Step { row_offset: u32, rows: u32, slot: u32, grad_scale: f32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> aux: array<f32>;
@group(0) @binding(4) var<storage, read> row_index: array<u32>;
@group(0) @binding(5) var<uniform> dims: Dims;
@group(0) @binding(6) var<uniform> step: Step;

const TILE = 32u;
const BLOCK = 4u;
const THREADS = 64u;

var<workgroup> a_tile: array<array<f32, TILE>, TILE>; // [row of C][k]
var<workgroup> b_tile: array<array<f32, TILE>, TILE>; // [k][column of C]

fn stored_row(r: u32) -> u32 {
  if (A_ROWS == 1u) { return step.row_offset + r; }
  if (A_ROWS == 2u) { return row_index[step.row_offset + r]; }
  return r;
}

fn op_a(i: u32, p: u32, m: u32, k: u32) -> f32 {
  if (i >= m || p >= k) { return 0.0; }
  if (TRANS_A) { return a[stored_row(p) * m + i]; }
  return a[stored_row(i) * k + p];
}

fn op_b(p: u32, j: u32, k: u32, n: u32) -> f32 {
  if (p >= k || j >= n) { return 0.0; }
  if (TRANS_B) { return b[j * k + p]; }
  return b[p * n + j];
}

fn epilogue(i: u32, j: u32, n: u32, product: f32) -> f32 {
  switch EPILOGUE {
    case 1u: { return product + aux[j]; }
    case 2u: { return max(product + aux[j], 0.0); }
    case 3u: { return select(0.0, product, aux[i * n + j] > 0.0); }
    default: { return product; }
  }
}

@compute @workgroup_size(8, 8)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(local_invocation_id) local: vec3u,
  @builtin(local_invocation_index) lane: u32,
) {
  let n = dims.n;
  let m = select(step.rows, dims.m, BATCH_IS_K);
  let k = select(dims.k, step.rows, BATCH_IS_K);
  let row0 = group.y * TILE;
  let col0 = group.x * TILE;
  var acc: array<array<f32, BLOCK>, BLOCK>;
  for (var p0 = 0u; p0 < k; p0 += TILE) {
    for (var e = lane; e < TILE * TILE; e += THREADS) {
      let r = e / TILE;
      let q = e % TILE;
      a_tile[r][q] = op_a(row0 + r, p0 + q, m, k);
      b_tile[r][q] = op_b(p0 + r, col0 + q, k, n);
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
        for (var j = 0u; j < BLOCK; j++) {
          acc[i][j] = fma(a_block[i], b_block[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < BLOCK; i++) {
    for (var j = 0u; j < BLOCK; j++) {
      let row = row0 + local.y * BLOCK + i;
      let col = col0 + local.x * BLOCK + j;
      if (row < m && col < n) {
        c[row * n + col] = epilogue(row, col, n, acc[i][j]);
      }
    }
  }
}
