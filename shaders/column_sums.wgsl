// Bias gradient: out[j] = Σ_r g[r][j] over the batch's step.rows rows of a rows × n matrix.
//
// A parallel reduction: each workgroup owns 16 columns; its 16 × 16 invocations are 16 lanes per
// column, lane y summing rows y, y + 16, ...; a tree over the lanes in workgroup memory finishes
// each column, so a tall batch is spread over 16 invocations instead of one.
//
// Bindings (group 0): 0 g (rows × n), 1 out (read_write, n), 2 shape {n},
//   3 step {row_offset, rows, slot, grad_scale} (dynamic offset).

struct Shape { n: u32 }
struct Step { row_offset: u32, rows: u32, slot: u32, grad_scale: f32 }

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> shape: Shape;
@group(0) @binding(3) var<uniform> step: Step;

const COLUMNS = 16u;
const LANES = 16u;
var<workgroup> partial: array<array<f32, COLUMNS>, LANES>;

@compute @workgroup_size(COLUMNS, LANES)
fn main(@builtin(workgroup_id) group: vec3u, @builtin(local_invocation_id) local: vec3u) {
  let n = shape.n;
  let column = group.x * COLUMNS + local.x;
  var sum = 0.0;
  if (column < n) {
    for (var r = local.y; r < step.rows; r += LANES) { sum += g[r * n + column]; }
  }
  partial[local.y][local.x] = sum;
  for (var width = LANES / 2u; width > 0u; width /= 2u) {
    workgroupBarrier();
    if (local.y < width) { partial[local.y][local.x] += partial[local.y + width][local.x]; }
  }
  if (local.y == 0u && column < n) { out[column] = partial[0][local.x]; }
}
