//! The transformer engine against independent values: every parameter's gradient
//! against central finite differences of the loss (every parameterisation, norm, residual
//! exponent and loss), and training that learns.

use scaling_playground::backend::Device;
use scaling_playground::progress::Silent;
use scaling_playground::rng::{Stream, stream};
use scaling_playground::transformer::config::{
    NormChoice, TfParam, TransformerConfig, TransformerModel,
};
use scaling_playground::transformer::train::load_batch;
use scaling_playground::transformer::{RunOptions, SeqTask, Transformer, train_members};

/// Loss of each member on the workspace's batch.
fn member_losses(
    net: &Transformer,
    ws: &mut scaling_playground::transformer::Workspace,
    count: usize,
) -> Vec<f64> {
    net.forward(ws);
    net.loss(ws, count);
    let rows = net.device.download(&ws.loss_rows);
    let per = rows.len() / net.members;
    (0..net.members)
        .map(|e| {
            rows[e * per..(e + 1) * per]
                .iter()
                .map(|&v| v as f64)
                .sum::<f64>()
                / count as f64
        })
        .collect()
}

/// Relative error `|fd - g| / sqrt(|fd|^2 + |g|^2)` over a sample of every parameter
/// tensor's entries, per tensor.
fn gradient_errors(model: &TransformerModel, param: &TfParam, task: &SeqTask) -> Vec<(usize, f64)> {
    let members = [0, 1];
    let mut net = Transformer::new(Device::Cpu, model, param, task, 5, &members);
    let dev = net.device.clone();
    let b = 2;
    let batch = task.batch(
        &mut stream(3, Stream::Batches, 0, 0),
        b,
        model.context,
        false,
    );
    let mut ws = net.workspace(b, task.target_width(), true);
    load_batch(&dev, &mut ws, &batch);
    member_losses(&net, &mut ws, batch.count);
    net.backward(&mut ws);
    let mut out = vec![];
    for p in 0..net.params.len() {
        let grad = dev.download(&ws.grads[p]);
        let w0 = dev.download(&net.params[p]);
        let per = w0.len() / net.members;
        let (mut num, mut den) = (0.0, 0.0);
        let stride = (w0.len() / 40).max(1);
        for k in (0..w0.len()).step_by(stride) {
            let eps = 1e-2 * w0[k].abs().max(0.5);
            let mut w = w0.clone();
            w[k] += eps;
            dev.write(&mut net.params[p], &w);
            let lp = member_losses(&net, &mut ws, batch.count)[k / per];
            w[k] -= 2.0 * eps;
            dev.write(&mut net.params[p], &w);
            let lm = member_losses(&net, &mut ws, batch.count)[k / per];
            let fd = (lp - lm) / (2.0 * eps as f64);
            num += (fd - grad[k] as f64).powi(2);
            den += fd.powi(2) + (grad[k] as f64).powi(2);
        }
        dev.write(&mut net.params[p], &w0);
        out.push((p, if den < 1e-18 { 0.0 } else { (num / den).sqrt() }));
    }
    out
}

fn small(norm: NormChoice, alpha: f64, context: usize) -> TransformerModel {
    TransformerModel {
        width: 8,
        heads: 2,
        depth: 2,
        alpha,
        beta: 0.9,
        norm,
        context,
        mlp_ratio: 2,
        base_width: 4,
        base_depth: 1,
        base_head_dim: 2,
        ..Default::default()
    }
}

#[test]
fn transformer_gradients_match_finite_differences() {
    let params = [
        TfParam::Sp,
        TfParam::Mup {
            zero_query: false,
            zero_readout: false,
        },
        TfParam::mup(),
    ];
    let tasks = [
        (SeqTask::Corpus {}, 5),
        (SeqTask::Copy { vocab: 4 }, 6),
        (SeqTask::InContextRegression { dim: 3, noise: 0.1 }, 6),
    ];
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    for param in &params {
        for norm in [NormChoice::Layer, NormChoice::Rms, NormChoice::None] {
            for alpha in [0.0, 0.5, 1.0] {
                for (task, context) in &tasks {
                    let model = small(norm, alpha, *context);
                    for (p, rel) in gradient_errors(&model, param, task) {
                        assert!(
                            rel < 5e-3,
                            "{param:?} {norm:?} alpha {alpha} {task:?}: tensor {p} relative gradient error {rel}"
                        );
                        worst = worst.max(rel);
                        checked += 1;
                    }
                }
            }
        }
    }
    println!("transformer gradient check: {checked} tensors, worst relative error {worst:.2e}");
}

/// A head size other than width / heads, and ReLU in the MLP, keep the gradients exact.
#[test]
fn transformer_gradients_with_explicit_head_size() {
    let mut model = small(NormChoice::Layer, 0.5, 5);
    model.head_dim = Some(3);
    model.heads = 3;
    for (p, rel) in gradient_errors(&model, &TfParam::Sp, &SeqTask::Corpus {}) {
        assert!(rel < 5e-3, "tensor {p}: {rel}");
    }
}

#[test]
fn a_transformer_learns_the_corpus_and_the_copy_task() {
    for (task, lr, drop) in [
        (SeqTask::Corpus {}, 0.01, 0.7),
        (SeqTask::Copy { vocab: 8 }, 0.01, 0.5),
    ] {
        let cfg = TransformerConfig {
            task: task.clone(),
            model: TransformerModel {
                width: 32,
                depth: 2,
                context: 16,
                ..Default::default()
            },
            steps: 150,
            batch: 16,
            seeds: 2,
            ..Default::default()
        };
        let r = train_members(
            Default::default(),
            &cfg.clone(),
            &[lr],
            &RunOptions::default(),
            &Silent,
        )
        .unwrap();
        let first = r.train_loss[0][0];
        let last = r.score[0].unwrap();
        println!(
            "{task:?}: loss {first:.3} -> score {last:.3}, test {:?}",
            r.test_loss.last()
        );
        assert!(last < drop * first, "{task:?}: {first} -> {last}");
        assert!(r.diverged_at.iter().all(Option::is_none));
        assert_eq!(r.attention.len(), 2);
        assert_eq!(r.attention[0].maps.len(), 4);
        // causal rows that sum to one
        for row in &r.attention[1].maps[3] {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-5);
        }
        assert_eq!(r.attention[0].maps[0][0][1], 0.0);
        let _ = lr;
    }
}
