//! Forward + backward of MAA: the closed form (default) against the paper's recurrence.
//!
//! `cargo bench -p maa-core` (ndarray); add `--features bench-flex,bench-wgpu` for the other
//! backends. Shapes: batch 1 and 16, T ∈ {20, 100, 400, 2000}, D = 1024. The recurrence is
//! `O(T²·D)` and is skipped at T = 2000 and at T = 400 with batch 16 (about 1.1 s per
//! iteration at T = 400, batch 1, on 2 cores; 25 times that at T = 2000).

use std::time::Duration;

use burn::backend::Autodiff;
use burn::tensor::{backend::Backend, Distribution, Tensor};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const DIM: usize = 1024;
const TIMES: [usize; 4] = [20, 100, 400, 2000];
const BATCHES: [usize; 2] = [1, 16];

type Op<B> = fn(Tensor<B, 2>, Tensor<B, 3>) -> Tensor<B, 2>;

fn bench_backend<B: Backend>(c: &mut Criterion, backend: &str, device: B::Device) {
    let mut group = c.benchmark_group(format!("maa_fwd_bwd/{backend}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let ops: [(&str, Op<Autodiff<B>>); 2] = [
        ("closed_form", maa_core::marginalized_average),
        ("recurrence", maa_core::recurrence::marginalized_average),
    ];
    for batch in BATCHES {
        for time in TIMES {
            for (name, op) in ops {
                if name == "recurrence" && (time >= 2000 || (time >= 400 && batch > 1)) {
                    continue;
                }
                let probs = Tensor::<Autodiff<B>, 2>::random(
                    [batch, time],
                    Distribution::Uniform(0.0, 1.0),
                    &device,
                );
                let feats = Tensor::<Autodiff<B>, 3>::random(
                    [batch, time, DIM],
                    Distribution::Default,
                    &device,
                );
                group.bench_with_input(
                    BenchmarkId::new(format!("{name}/b{batch}"), time),
                    &time,
                    |bench, _| {
                        bench.iter(|| {
                            let p = probs.clone().require_grad();
                            let x = feats.clone().require_grad();
                            let grads = op(p.clone(), x.clone()).sum().backward();
                            let gp = p.grad(&grads).unwrap();
                            let gx = x.grad(&grads).unwrap();
                            B::sync(&device).unwrap();
                            (gp, gx)
                        })
                    },
                );
            }
        }
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_backend::<burn::backend::NdArray>(c, "ndarray", Default::default());
    #[cfg(feature = "bench-flex")]
    bench_backend::<burn::backend::Flex>(c, "flex", Default::default());
    #[cfg(feature = "bench-wgpu")]
    bench_backend::<burn::backend::Wgpu>(c, "wgpu", Default::default());
    #[cfg(feature = "bench-cuda")]
    bench_backend::<burn::backend::Cuda>(c, "cuda", Default::default());
}

criterion_group!(maa, benches);
criterion_main!(maa);
