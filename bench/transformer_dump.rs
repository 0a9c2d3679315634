//! Writes one small transformer's weights, a batch, the loss, every gradient and the
//! weights after one Adam step as JSON, for `bench/transformer_check.py` to recompute
//! independently (numpy forward, PyTorch autograd in f64):
//!
//! `cargo run --release --example transformer_dump -- OUT.json [sp|mup] [layer|rms|none] [alpha]`

use scaling_playground::backend::{AdamStep, Device};
use scaling_playground::rng::{Stream, stream};
use scaling_playground::transformer::config::{NormChoice, TfParam, TransformerModel};
use scaling_playground::transformer::train::load_batch;
use scaling_playground::transformer::{SeqTask, Transformer};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("transformer_dump.json", |s| s.as_str());
    let param = match args.get(2).map(|s| s.as_str()) {
        Some("sp") => TfParam::Sp,
        _ => TfParam::Mup {
            zero_query: false,
            zero_readout: false,
        },
    };
    let norm = match args.get(3).map(|s| s.as_str()) {
        Some("rms") => NormChoice::Rms,
        Some("none") => NormChoice::None,
        _ => NormChoice::Layer,
    };
    let alpha: f64 = args.get(4).map_or(0.5, |s| s.parse().unwrap());
    let model = TransformerModel {
        width: 24,
        heads: 3,
        depth: 3,
        alpha,
        norm,
        context: 8,
        mlp_ratio: 2,
        base_width: 12,
        base_depth: 1,
        base_head_dim: 4,
        ..Default::default()
    };
    let task = SeqTask::Corpus {};
    let net_seed = 7;
    let mut net = Transformer::new(Device::Cpu, &model, &param, &task, net_seed, &[0]);
    let dev = net.device.clone();
    let b = 3;
    let batch = task.batch(
        &mut stream(1, Stream::Batches, 0, 0),
        b,
        model.context,
        false,
    );
    let mut ws = net.workspace(b, task.target_width(), true);
    load_batch(&dev, &mut ws, &batch);
    net.forward(&mut ws);
    net.loss(&mut ws, batch.count);
    let rows = dev.download(&ws.loss_rows);
    let loss: f64 = rows.iter().map(|&v| v as f64).sum::<f64>() / batch.count as f64;
    let logits = dev.download(&ws.f);
    net.backward(&mut ws);
    let params: Vec<Vec<f32>> = net.params.iter().map(|p| dev.download(p)).collect();
    let grads: Vec<Vec<f32>> = ws.grads.iter().map(|g| dev.download(g)).collect();
    // one Adam step at base rate lr (no schedule), bias corrections folded in as in
    // `train_members`
    let (lr, beta1, beta2, eps) = (0.01f64, 0.9f64, 0.999f64, 1e-8f64);
    let (bc1, bc2) = (1.0 - beta1, 1.0 - beta2);
    let member_lr = dev.upload(&[lr as f32]);
    for (p, spec) in net.scales.specs.clone().iter().enumerate() {
        let st = AdamStep {
            lr: (spec.lr_scale * bc2.sqrt() / bc1) as f32,
            beta1: beta1 as f32,
            beta2: beta2 as f32,
            eps: (eps * spec.eps_scale * bc2.sqrt()) as f32,
        };
        let n = params[p].len();
        let (mut m, mut v) = (dev.from_vec(vec![0.0; n]), dev.from_vec(vec![0.0; n]));
        dev.adam_members(
            &st,
            &member_lr,
            &ws.grads[p],
            &mut m,
            &mut v,
            &mut net.params[p],
        );
    }
    let stepped: Vec<Vec<f32>> = net.params.iter().map(|p| dev.download(p)).collect();
    let specs: Vec<_> = net
        .scales
        .specs
        .iter()
        .map(|s| json!({"group": format!("{:?}", s.group), "block": s.block, "rows": s.rows, "cols": s.cols}))
        .collect();
    let doc = json!({
        "model": model, "param": param,
        "input": net.input, "outputs": net.outputs, "batch": b,
        "tokens": batch.tokens, "targets": batch.targets, "count": batch.count,
        "specs": specs, "params": params, "grads": grads, "stepped": stepped,
        "loss": loss, "logits": logits,
        "adam": {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps},
    });
    std::fs::write(out, serde_json::to_string(&doc).unwrap()).unwrap();
    eprintln!("wrote {out}: loss {loss}");
}
