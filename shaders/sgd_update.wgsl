// Masked SGD step for one layer:  w -= learning_rate · scale · gw,  b -= learning_rate · scale · gb.
//
// `scale` is the layer's rate multiplier from the strategy's plan. A layer whose scale is 0 is frozen:
// the host records no update (and no gradient work) for it, so its bytes stay exactly as they were.
// Invocation i updates weight i when i < weight_count, else bias i − weight_count.
//
// Bindings (group 0): 0 w (read_write), 1 gw, 2 b (read_write), 3 gb,
//   4 update {learning_rate, scale, weight_count, bias_count}.

struct Update { learning_rate: f32, scale: f32, weight_count: u32, bias_count: u32 }

@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read> gw: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read> gb: array<f32>;
@group(0) @binding(4) var<uniform> update: Update;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  let rate = update.learning_rate * update.scale;
  if (i < update.weight_count) {
    w[i] -= rate * gw[i];
  } else if (i < update.weight_count + update.bias_count) {
    b[i - update.weight_count] -= rate * gb[i - update.weight_count];
  }
}
