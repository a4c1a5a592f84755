// Minibatch training of a small MLP held in workgroup memory, in one workgroup: a dispatch runs
// `work.steps` consecutive minibatch steps of one epoch (forward, loss gradient, backward, update),
// reading the parameters once at its start and writing back the parts that learn at its end.
//
// For each row x of step s's minibatch B (rows order[work.first_row + s · batch ...]):
//   a₀ = x;  a_l = relu(a_{l−1} W_l + b_l) below the head, z = a_{L−1} W_L + b_L      (W_l is in × out)
//   loss = log Σ_k exp(z_k − max z) − (z_y − max z);  δ_L = (softmax(z) − onehot(y)) / |B|
//   G_l = a_{l−1}ᵀ δ_l,  g_l = Σ_rows δ_l,  δ_{l−1} = (δ_l W_lᵀ) ⊙ [a_{l−1} > 0]
//   (from the head down to the lowest layer that learns)
// then every parameter of a part whose step size is above 0 goes through update_rule.wgsl's
// `apply_rule` (t = its part's t0 + work.first_step + s + 1); a part at 0 is never written, nor is its
// state. A layer with a LoRA adapter (rank r > 0; W = W₀ + s · A B, A in × r and B r × out, W₀ frozen)
// learns A and B in place of W, at the weights' step size, with the rule's own decay and no anchor:
//   ∂A = s · G Bᵀ,  ∂B = s · Aᵀ G  (both from the factors before the step),  then W = W₀ + s · A B.
// Each step's loss sum and correct count (argmax, the lowest class on ties), taken before its update,
// are added to metrics slot work.slot when the dispatch ends.
//
// Workgroup memory `mem` (MEMORY floats, set by the host) holds, at offsets from `net`: the parameters
// (W₁, b₁, then A₁, B₁ with an adapter, W₂, b₂, ... as in `params`, from 0), their gradients (from
// net.params), and every row's activations layer after layer (layer l's inputs from layer[l].act_at,
// `batch` rows apart), each layer's outputs replaced by its deltas on the way back. `state` holds, in
// the parameters' layout, the optimizer's first moments (from 0), second moments (from net.params),
// the anchor w₀ (from 2 · net.params) and an adapter's W₀ (from 3 · net.params). The host's side of
// these layouts, and of the loop budget a dispatch keeps to, is src/engines/gpu/fused_mlp.ts.
//
// Why a budget of loop iterations per dispatch: Mesa's llvmpipe stops every loop of an invocation once
// the invocation's iterations in a dispatch add up to about 65535, so a dispatch takes only as many
// steps as stay well under that (and a hardware GPU's watchdog never sees a long one).
// Why the rows of a step go through each layer together: a barrier costs llvmpipe a switch of every
// invocation, so the kernel takes a few per layer and step, not per row.
//
// Bindings (group 0): 0 x (train rows × features), 1 labels (u32), 2 order (u32, the epoch's row
//   order), 3 params (read_write), 4 state (read_write), 5 metrics (read_write, {loss: f32,
//   correct: u32} per slot), 6 net (uniform Net), 7 work {first_step, first_row, steps, slot}
//   (uniform, dynamic offset).
// Dispatch: one workgroup of THREADS.

struct Layer {
  inputs: u32,
  outputs: u32,
  weight_at: u32,   // in params, state and mem; the bias follows the weights
  act_at: u32,      // where this layer's input rows start in mem
  rate_w: f32,      // the weights' step size; 0 freezes them
  rate_b: f32,
  t0_w: u32,        // steps each part took before this phase since its state was fresh
  t0_b: u32,
  coupled: f32,     // the rule's L2 pull towards 0 for this layer's own parameters
  anchor: f32,      // α, towards state's anchor
  rank: u32,        // its LoRA adapter's r; 0 without one
  scale: f32,       // the adapter's s = α / r
}

struct Net {
  layers: u32,
  lowest: u32,      // the lowest layer that learns: no delta is needed below it
  train_rows: u32,
  batch: u32,
  params: u32,      // P: the parameters' count
  kind: u32,
  nesterov: u32,
  mu: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  decoupled: f32,
  coupled: f32,     // the rule's own L2 pull towards 0 (weight decay but adamw's): an adapter's factors'
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  layer: array<Layer, MAX_LAYERS>,
}

struct Work { first_step: u32, first_row: u32, steps: u32, slot: u32 }
struct Sums { loss: f32, correct: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> metrics: array<Sums>;
@group(0) @binding(6) var<uniform> net: Net;
@group(0) @binding(7) var<uniform> work: Work;

var<workgroup> mem: array<f32, MEMORY>;
var<workgroup> loss_part: array<f32, THREADS>;
var<workgroup> correct_part: array<u32, THREADS>;

fn rows_of(s: u32) -> u32 {
  return min(net.batch, net.train_rows - (work.first_row + s * net.batch));
}

fn load_rows(t: u32, s: u32, rows: u32) {
  let features = net.layer[0].inputs;
  let first = work.first_row + s * net.batch;
  for (var i = t; i < rows * features; i += THREADS) {
    mem[net.layer[0].act_at + i] = x[order[first + i / features] * features + i % features];
  }
}

// The products go in blocks of 4 × 4 outputs an invocation, each loaded value used four times: a
// float read from memory costs llvmpipe about 170 cycles for 8 invocations, so the reads are what a
// step costs there (docs/BENCHMARKS.md, "Products in 4 × 4 blocks"). At a ragged edge a block's
// indices past the last row or unit repeat the last one: read, never written. Each output is summed
// in the same order as one at a time would be. The host sets BLOCK (its loop budget counts blocks);
// the code below holds a block's side in a vec4. (Each strided loop's body is a function of its own:
// llvmpipe runs such bodies written inline far slower.)
const_assert BLOCK == 4u;

fn blocks(n: u32) -> u32 { return (n + BLOCK - 1u) / BLOCK; }

// The four indices from `first`, those at or past `count` held at count − 1.
fn clamped(first: u32, count: u32) -> vec4u {
  return min(vec4u(first) + vec4u(0u, 1u, 2u, 3u), vec4u(count - 1u));
}

// mem at `at` + each of `index`.
fn gather(at: u32, index: vec4u) -> vec4f {
  return vec4f(mem[at + index.x], mem[at + index.y], mem[at + index.z], mem[at + index.w]);
}

// v's first min(4, count) components to mem from `at` on (no loop, so llvmpipe counts no iterations).
fn scatter(at: u32, count: u32, v: vec4f) {
  if (count > 0u) { mem[at] = v.x; }
  if (count > 1u) { mem[at + 1u] = v.y; }
  if (count > 2u) { mem[at + 2u] = v.z; }
  if (count > 3u) { mem[at + 3u] = v.w; }
}

// Where layer l's output rows start in mem: after its input rows (they hold its deltas on the way back).
fn outputs_at(layer: Layer) -> u32 {
  return layer.act_at + layer.inputs * net.batch;
}

// Block k of layer l's outputs (rows 4 (k / blocks(outputs)) on, units 4 (k % blocks(outputs)) on):
//   Y[r][j] = b[j] + Σ_i X[r][i] W[i][j], with ReLU below the head.
fn forward_block(l: u32, k: u32, rows: u32) {
  let layer = net.layer[l];
  let r0 = BLOCK * (k / blocks(layer.outputs));
  let j0 = BLOCK * (k % blocks(layer.outputs));
  let x_rows = clamped(r0, rows) * layer.inputs + layer.act_at;   // where the block's rows of X start
  let w_cols = clamped(j0, layer.outputs) + layer.weight_at;      // its columns of W (and b)
  let bias = gather(layer.inputs * layer.outputs, w_cols);
  var y = array<vec4f, 4>(bias, bias, bias, bias);
  for (var i = 0u; i < layer.inputs; i++) {
    let w = gather(i * layer.outputs, w_cols);
    y[0] += mem[x_rows.x + i] * w;
    y[1] += mem[x_rows.y + i] * w;
    y[2] += mem[x_rows.z + i] * w;
    y[3] += mem[x_rows.w + i] * w;
  }
  let hidden = l + 1u < net.layers;
  for (var q = 0u; q < min(BLOCK, rows - r0); q++) {
    let y_q = select(y[q], max(y[q], vec4f()), hidden);
    scatter(outputs_at(layer) + (r0 + q) * layer.outputs + j0, layer.outputs - j0, y_q);
  }
}

fn forward_layer(t: u32, l: u32, rows: u32) {
  let count = blocks(rows) * blocks(net.layer[l].outputs);
  for (var k = t; k < count; k += THREADS) { forward_block(l, k, rows); }
}

// Row r's loss and correct count into invocation t's sums; its logits replaced by its output delta.
fn head_row(t: u32, s: u32, r: u32, rows: u32) {
  let head = net.layer[net.layers - 1u];
  let classes = head.outputs;
  let z = outputs_at(head) + r * classes;
  var best = 0u;
  for (var k = 1u; k < classes; k++) {
    if (mem[z + k] > mem[z + best]) { best = k; }
  }
  let top = mem[z + best];
  var sum = 0.0;
  for (var k = 0u; k < classes; k++) { sum += exp(mem[z + k] - top); }
  let label = labels[order[work.first_row + s * net.batch + r]];
  loss_part[t] += log(sum) - (mem[z + label] - top);
  correct_part[t] += select(0u, 1u, best == label);
  for (var k = 0u; k < classes; k++) {
    mem[z + k] = (exp(mem[z + k] - top) / sum - select(0.0, 1.0, k == label)) * (1.0 / f32(rows));
  }
}

// Gradient block k of layer l's weights, inputs 4 (k / blocks(outputs)) on and units 4
// (k % blocks(outputs)) on:  G[i][j] = Σ_r X[r][i] Δ[r][j].
fn weight_gradient_block(l: u32, k: u32, rows: u32) {
  let layer = net.layer[l];
  let i0 = BLOCK * (k / blocks(layer.outputs));
  let j0 = BLOCK * (k % blocks(layer.outputs));
  let x_cols = clamped(i0, layer.inputs) + layer.act_at;         // the block's columns of X's row 0
  let d_cols = clamped(j0, layer.outputs) + outputs_at(layer);   // and of Δ's
  var g = array<vec4f, 4>();
  for (var r = 0u; r < rows; r++) {
    let d = gather(r * layer.outputs, d_cols);
    let row_at = r * layer.inputs;
    g[0] += mem[x_cols.x + row_at] * d;
    g[1] += mem[x_cols.y + row_at] * d;
    g[2] += mem[x_cols.z + row_at] * d;
    g[3] += mem[x_cols.w + row_at] * d;
  }
  let grad_at = net.params + layer.weight_at + j0;
  for (var q = 0u; q < min(BLOCK, layer.inputs - i0); q++) {
    scatter(grad_at + (i0 + q) * layer.outputs, layer.outputs - j0, g[q]);
  }
}

// Gradient block k of layer l's bias, units 4 k on:  g[j] = Σ_r Δ[r][j].
fn bias_gradient_block(l: u32, k: u32, rows: u32) {
  let layer = net.layer[l];
  let j0 = BLOCK * k;
  let d_cols = clamped(j0, layer.outputs) + outputs_at(layer);
  var g = vec4f();
  for (var r = 0u; r < rows; r++) { g += gather(r * layer.outputs, d_cols); }
  scatter(net.params + layer.weight_at + layer.inputs * layer.outputs + j0, layer.outputs - j0, g);
}

// Block k of the deltas below layer l (rows 4 (k / blocks(inputs)) on, inputs 4 (k % blocks(inputs))
// on), with the old W, in place of its inputs:  Δ'[r][i] = (Σ_j Δ[r][j] W[i][j]) · [X[r][i] > 0].
fn delta_block(l: u32, k: u32, rows: u32) {
  let layer = net.layer[l];
  let r0 = BLOCK * (k / blocks(layer.inputs));
  let i0 = BLOCK * (k % blocks(layer.inputs));
  let d_rows = clamped(r0, rows) * layer.outputs + outputs_at(layer);      // the block's rows of Δ
  let w_rows = clamped(i0, layer.inputs) * layer.outputs + layer.weight_at; // and of W
  var d = array<vec4f, 4>();
  for (var j = 0u; j < layer.outputs; j++) {
    let w = gather(j, w_rows);
    d[0] += mem[d_rows.x + j] * w;
    d[1] += mem[d_rows.y + j] * w;
    d[2] += mem[d_rows.z + j] * w;
    d[3] += mem[d_rows.w + j] * w;
  }
  for (var q = 0u; q < min(BLOCK, rows - r0); q++) {
    let x_at = layer.act_at + (r0 + q) * layer.inputs;
    let live = gather(x_at, clamped(i0, layer.inputs)) > vec4f();
    scatter(x_at + i0, layer.inputs - i0, select(vec4f(), d[q], live));
  }
}

// Where layer l's adapter factors start (A, then B), after its weights and bias.
fn factors_at(layer: Layer) -> u32 {
  return layer.weight_at + (layer.inputs + 1u) * layer.outputs;
}

// Parameter k of layer l after step s, when its part learns: a weight below inputs · outputs, then a
// bias, then (with an adapter) a factor's element, which learns at the weights' rate; an adapted
// layer's W itself is not stepped (`merge_item` makes it).
fn update_item(l: u32, k: u32, s: u32) {
  let layer = net.layer[l];
  let weights = layer.inputs * layer.outputs;
  let is_bias = k >= weights && k < weights + layer.outputs;
  if (layer.rank > 0u && k < weights) { return; }
  let rate = select(layer.rate_w, layer.rate_b, is_bias);
  if (rate == 0.0) { return; }
  let e = layer.weight_at + k;
  let own = layer.rank == 0u || is_bias;
  let rule = Rule(
    net.kind, net.nesterov, net.mu, net.beta1, net.beta2, net.epsilon,
    select(net.coupled, layer.coupled, own), net.decoupled, select(0.0, layer.anchor, own),
  );
  var m = 0.0;
  var v = 0.0;
  var w0 = 0.0;
  if (net.kind != 0u) { m = state[e]; }
  if (net.kind == 2u) { v = state[net.params + e]; }
  if (rule.anchor != 0.0) { w0 = state[2u * net.params + e]; }
  let t = select(layer.t0_w, layer.t0_b, is_bias) + work.first_step + s + 1u;
  let u = apply_rule(rule, mem[e], mem[net.params + e], m, v, w0, rate, t);
  mem[e] = u.w;
  if (net.kind != 0u) { state[e] = u.m; }
  if (net.kind == 2u) { state[net.params + e] = u.v; }
}

// The gradient of layer l's adapter factor element k (A's below inputs · rank, then B's), from G.
fn factor_gradient(l: u32, k: u32) -> f32 {
  let layer = net.layer[l];
  let a_at = factors_at(layer);
  let b_at = a_at + layer.inputs * layer.rank;
  let g = net.params + layer.weight_at;
  var sum = 0.0;
  if (k < layer.inputs * layer.rank) { // ∂A[i, c] = s Σ_j G[i, j] B[c, j]
    let i = k / layer.rank;
    let c = k % layer.rank;
    for (var j = 0u; j < layer.outputs; j++) {
      sum += mem[g + i * layer.outputs + j] * mem[b_at + c * layer.outputs + j];
    }
  } else { // ∂B[c, j] = s Σ_i A[i, c] G[i, j]
    let c = (k - layer.inputs * layer.rank) / layer.outputs;
    let j = (k - layer.inputs * layer.rank) % layer.outputs;
    for (var i = 0u; i < layer.inputs; i++) {
      sum += mem[a_at + i * layer.rank + c] * mem[g + i * layer.outputs + j];
    }
  }
  return layer.scale * sum;
}

// Layer l's weight k (input k / outputs, unit k % outputs) from its adapter: W₀ + s · (A B).
fn merge_item(l: u32, k: u32) -> f32 {
  let layer = net.layer[l];
  let a_at = factors_at(layer);
  let b_at = a_at + layer.inputs * layer.rank;
  let i = k / layer.outputs;
  let j = k % layer.outputs;
  var sum = 0.0;
  for (var c = 0u; c < layer.rank; c++) {
    sum += mem[a_at + i * layer.rank + c] * mem[b_at + c * layer.outputs + j];
  }
  return state[3u * net.params + layer.weight_at + k] + layer.scale * sum;
}

// Layer l on the way back, its deltas where its outputs were: its gradients, then the deltas below
// (with the old W) in place of its inputs, which are no longer needed, then its step.
fn backward_layer(t: u32, l: u32, s: u32, rows: u32) {
  let layer = net.layer[l];
  let count = (layer.inputs + 1u) * layer.outputs;
  let factors = layer.rank * (layer.inputs + layer.outputs);
  let adapted = layer.rank > 0u && layer.rate_w != 0.0; // its factors learn
  let weights = layer.inputs * layer.outputs;
  if (layer.rate_w != 0.0) {
    for (var k = t; k < blocks(layer.inputs) * blocks(layer.outputs); k += THREADS) {
      weight_gradient_block(l, k, rows);
    }
  }
  if (layer.rate_b != 0.0) {
    for (var k = t; k < blocks(layer.outputs); k += THREADS) { bias_gradient_block(l, k, rows); }
  }
  workgroupBarrier();
  if (l > net.lowest) {
    for (var k = t; k < blocks(rows) * blocks(layer.inputs); k += THREADS) { delta_block(l, k, rows); }
  }
  workgroupBarrier();
  if (adapted) {
    for (var k = t; k < factors; k += THREADS) {
      mem[net.params + factors_at(layer) + k] = factor_gradient(l, k);
    }
    workgroupBarrier();
  }
  for (var k = t; k < count + factors; k += THREADS) { update_item(l, k, s); }
  workgroupBarrier();
  if (adapted) {
    for (var k = t; k < weights; k += THREADS) { mem[layer.weight_at + k] = merge_item(l, k); }
    workgroupBarrier();
  }
}

fn step(t: u32, s: u32) {
  let rows = rows_of(s);
  load_rows(t, s, rows);
  for (var l = 0u; l < net.layers; l++) {
    workgroupBarrier();
    forward_layer(t, l, rows);
  }
  workgroupBarrier();
  for (var r = t; r < rows; r += THREADS) { head_row(t, s, r, rows); }
  workgroupBarrier();
  for (var l = net.layers; l > net.lowest; l--) { backward_layer(t, l - 1u, s, rows); }
}

// Writes back the parts that learn: a frozen part's bytes in params are never written.
fn store(t: u32) {
  for (var l = 0u; l < net.layers; l++) {
    let layer = net.layer[l];
    let weights = layer.inputs * layer.outputs;
    if (layer.rate_w != 0.0) {
      for (var k = t; k < weights; k += THREADS) { params[layer.weight_at + k] = mem[layer.weight_at + k]; }
    }
    if (layer.rate_b != 0.0) {
      for (var j = t; j < layer.outputs; j += THREADS) {
        params[layer.weight_at + weights + j] = mem[layer.weight_at + weights + j];
      }
    }
    if (layer.rate_w != 0.0) { // an adapter's factors, which learn in place of W
      let at = factors_at(layer);
      for (var k = t; k < layer.rank * (layer.inputs + layer.outputs); k += THREADS) {
        params[at + k] = mem[at + k];
      }
    }
  }
}

@compute @workgroup_size(THREADS)
fn main(@builtin(local_invocation_index) t: u32) {
  for (var k = t; k < net.params; k += THREADS) { mem[k] = params[k]; }
  loss_part[t] = 0.0;
  correct_part[t] = 0u;
  for (var s = 0u; s < work.steps; s++) { step(t, s); }
  store(t);
  workgroupBarrier();
  if (t == 0u) {
    var sums = metrics[work.slot];
    for (var i = 0u; i < THREADS; i++) {
      sums.loss += loss_part[i];
      sums.correct += correct_part[i];
    }
    metrics[work.slot] = sums;
  }
}
