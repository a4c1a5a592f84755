// Softmax cross-entropy of a batch of logits, with the batch's summed loss and correct count.
//
//   loss_r  = log Σ_j exp(z_rj − max_r) − (z_ry − max_r)            (stable for any logit magnitude)
//   grad_rj = (softmax(z_r)_j − [j = y_r]) · step.grad_scale          (when WITH_GRAD)
//   metrics[step.slot] += (Σ_r loss_r, #{r : argmax_j z_rj = y_r})     (ties go to the lowest j)
//
// Row r's label is labels[row], with row chosen as in matmul's A_ROWS: LABEL_ROWS is 1 for a dataset
// chunk (step.row_offset + r) or 2 for a shuffled minibatch (row_index[step.row_offset + r]).
// One workgroup: invocation t handles rows t, t + 64, ...; a tree reduction in workgroup memory
// combines the partial sums and invocation 0 adds them to the slot, so no atomics are needed.
// (The per-row work sits in its own function: Mesa's llvmpipe ran the same code written inline in
// the strided loop about 100 times slower.)
//
// Bindings (group 0): 0 logits (rows × classes), 1 labels (u32), 2 row_index (u32),
//   3 grad (read_write, rows × classes), 4 metrics (read_write, {loss: f32, correct: u32} per slot),
//   5 shape {classes} (read-only storage, see below), 6 step {row_offset, rows, slot, grad_scale} (uniform,
//   dynamic offset).
// `shape` is storage rather than uniform because Mesa's lavapipe (the Vulkan driver over llvmpipe) ran this
// kernel 40 to 120 times slower per dispatch with the class count in a uniform once there were 4 classes or
// more (4.5 ms at 4 classes, 11 ms at 10, on 16 rows), against 0.1 ms read from storage, whatever the count;
// the likely cause is its specialising a shader on uniform values that bound loops. Storage costs a GPU
// nothing here: every invocation reads the same word.

override WITH_GRAD: bool = true;
override LABEL_ROWS: u32 = 2u;

struct Shape { classes: u32 }
struct Step { row_offset: u32, rows: u32, slot: u32, grad_scale: f32 }
struct Sums { loss: f32, correct: u32 }

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> row_index: array<u32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<Sums>;
@group(0) @binding(5) var<storage, read> shape: Shape;
@group(0) @binding(6) var<uniform> step: Step;

const THREADS = 64u;
var<workgroup> loss_part: array<f32, THREADS>;
var<workgroup> correct_part: array<u32, THREADS>;

fn label_of(r: u32) -> u32 {
  if (LABEL_ROWS == 1u) { return labels[step.row_offset + r]; }
  return labels[row_index[step.row_offset + r]];
}

// Row r's loss and whether its prediction is right (1.0) or not (0.0); writes its gradient.
fn row_loss(r: u32) -> vec2f {
  let classes = shape.classes;
  let row = r * classes;
  var best = 0u;
  for (var j = 1u; j < classes; j++) {
    if (logits[row + j] > logits[row + best]) { best = j; }
  }
  let top = logits[row + best];
  var sum = 0.0;
  for (var j = 0u; j < classes; j++) { sum += exp(logits[row + j] - top); }
  let y = label_of(r);
  if (WITH_GRAD) {
    for (var j = 0u; j < classes; j++) {
      let p = exp(logits[row + j] - top) / sum;
      grad[row + j] = (p - select(0.0, 1.0, j == y)) * step.grad_scale;
    }
  }
  return vec2f(log(sum) - (logits[row + y] - top), select(0.0, 1.0, best == y));
}

@compute @workgroup_size(THREADS)
fn main(@builtin(local_invocation_index) lane: u32) {
  var loss = 0.0;
  var correct = 0u;
  for (var r = lane; r < step.rows; r += THREADS) {
    let part = row_loss(r);
    loss += part.x;
    correct += u32(part.y);
  }
  loss_part[lane] = loss;
  correct_part[lane] = correct;
  for (var width = THREADS / 2u; width > 0u; width /= 2u) {
    workgroupBarrier();
    if (lane < width) {
      loss_part[lane] += loss_part[lane + width];
      correct_part[lane] += correct_part[lane + width];
    }
  }
  if (lane == 0u) {
    metrics[step.slot].loss += loss_part[0];
    metrics[step.slot].correct += correct_part[0];
  }
}
