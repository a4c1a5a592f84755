// One optimizer step of one layer: update_rule.wgsl's `apply_rule` (put in front of this file by the
// host) on every parameter that learns, its state read from and written back to `m` and `v`.
//
// The layer's parameters are seen as one (M+1)×N array: rows 0..M-1 the weights W (M×N), row M the
// bias b; `grad`, `m`, `v` and `anchor` (w₀) are laid out the same way. η is p.rate_w for the weights
// and p.rate_b for the bias: a part whose rate is 0 is frozen, and neither it nor its state is read
// or written. t = p.t0 (the part's steps before this phase) + step.index (the step in the phase) + 1.
//
// Bindings (group 0): 0 weights (read_write), 1 bias (read_write), 2 grad, 3 m (read_write),
//   4 v (read_write), 5 anchor, 6 p (uniform Params), 7 step {row_offset, rows, slot, grad_scale, index}
//   (uniform, dynamic offset).
// Dispatch: ceil((M+1)·N / 64) workgroups of 64.

struct Params {
  weights: u32,     // M·N
  count: u32,       // (M+1)·N
  kind: u32,        // 0 sgd, 1 momentum, 2 adam (adamw is adam with `decoupled`)
  nesterov: u32,
  rate_w: f32,
  rate_b: f32,
  mu: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  coupled: f32,
  decoupled: f32,
  anchor: f32,      // α, for the weights and the bias alike
  t0_w: u32,
  t0_b: u32,
  _pad: u32,
}
struct Step { row_offset: u32, rows: u32, slot: u32, grad_scale: f32, index: u32 }

@group(0) @binding(0) var<storage, read_write> weights: array<f32>;
@group(0) @binding(1) var<storage, read_write> bias: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> anchor: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;
@group(0) @binding(7) var<uniform> step: Step;

fn rule() -> Rule {
  return Rule(p.kind, p.nesterov, p.mu, p.beta1, p.beta2, p.epsilon, p.coupled, p.decoupled, p.anchor);
}

/** The new value of parameter `w` at element `e` with step size `rate`, updating its state. */
fn update(e: u32, w: f32, rate: f32, t0: u32) -> f32 {
  var state = Updated(w, 0.0, 0.0);
  if (p.kind != 0u) { state.m = m[e]; }
  if (p.kind == 2u) { state.v = v[e]; }
  var w0 = 0.0;
  if (p.anchor != 0.0) { w0 = anchor[e]; }
  let u = apply_rule(rule(), w, grad[e], state.m, state.v, w0, rate, t0 + step.index + 1u);
  if (p.kind != 0u) { m[e] = u.m; }
  if (p.kind == 2u) { v[e] = u.v; }
  return u.w;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let e = id.x;
  if (e >= p.count) { return; }
  if (e < p.weights) {
    if (p.rate_w != 0.0) { weights[e] = update(e, weights[e], p.rate_w, p.t0_w); }
  } else if (p.rate_b != 0.0) {
    let j = e - p.weights;
    bias[j] = update(e, bias[j], p.rate_b, p.t0_b);
  }
}
