// The update rule of one parameter (src/core/optimizers.ts), shared by optimizer.wgsl and
// fused_mlp.wgsl: the host puts this file in front of each (see pipelines.ts), so the rule is
// written once.
//
//   g ← g + λ_c · w + α · (w − w₀)              λ_c = r.coupled: L2 weight decay + the penalty's decay
//   sgd (0)       w ← w − η g
//   momentum (1)  v ← μ v + g;  w ← w − η (nesterov ? g + μ v : v)           (v returned as `m`)
//   adam (2)      m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
//                 w ← w − η λ_d w − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
//                 (λ_d = r.decoupled: adamw's weight decay, 0 for adam)
//
// `m`, `v` and `w0` are read only by the rules that use them (the caller passes 0 otherwise), and
// the state returned is the caller's to store: sgd's is left as it came.

struct Rule {
  kind: u32,        // 0 sgd, 1 momentum, 2 adam (adamw is adam with `decoupled`)
  nesterov: u32,
  mu: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  coupled: f32,
  decoupled: f32,
  anchor: f32,      // α
}

struct Updated { w: f32, m: f32, v: f32 }

/** Parameter `w` with gradient `grad` after one step of size `rate`, its t-th (from 1), with its state. */
fn apply_rule(r: Rule, w: f32, grad: f32, m: f32, v: f32, w0: f32, rate: f32, t: u32) -> Updated {
  var g = grad + r.coupled * w;
  if (r.anchor != 0.0) { g += r.anchor * (w - w0); }
  if (r.kind == 0u) { return Updated(w - rate * g, m, v); }
  if (r.kind == 1u) {
    let velocity = r.mu * m + g;
    return Updated(w - rate * select(velocity, g + r.mu * velocity, r.nesterov != 0u), velocity, v);
  }
  let first = r.beta1 * m + (1.0 - r.beta1) * g;
  let second = r.beta2 * v + (1.0 - r.beta2) * g * g;
  let m_hat = first / (1.0 - pow(r.beta1, f32(t)));
  let v_hat = second / (1.0 - pow(r.beta2, f32(t)));
  return Updated(w - rate * r.decoupled * w - rate * m_hat / (sqrt(v_hat) + r.epsilon), first, second);
}
