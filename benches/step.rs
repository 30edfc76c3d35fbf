//! One training step and the gradient computation alone, hand-written vs
//! burn-autodiff, on ndarray and flex, f32 and f64, for the three shapes of
//! `manual_backprop::bench::shapes()`; and the step's three matrix products
//! with the weight stored either way round. Run with `cargo bench --bench
//! step`; `backprop bench` runs the step grid faster with a plain median.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use manual_backprop::bench;
use manual_backprop::gradients::{GradientSource, autodiff_gradients};
use manual_backprop::training::threads;
use manual_backprop::{Backend, Precision, tensor};
use std::hint::black_box;
use std::time::Instant;

fn steps(c: &mut Criterion) {
    for shape in bench::shapes() {
        let mut group = c.benchmark_group(format!("step/{}", shape.name));
        group.sample_size(10);
        for backend in Backend::ALL {
            for precision in Precision::ALL {
                let (net, x, y) = shape.setup(&backend, precision).expect("benchmark setup");
                for method in [GradientSource::Manual, GradientSource::Autodiff] {
                    let id =
                        BenchmarkId::new(format!("{method:?}"), format!("{backend}-{precision}"));
                    // On the threads training gives a step of this size, as
                    // `backprop bench` does: criterion's loop runs on them, one
                    // hand-off per batch of iterations.
                    group.bench_function(id, |b| {
                        b.iter_custom(|iters| {
                            threads::like_steps(&net, shape.m, &net.device(), || {
                                let start = Instant::now();
                                for _ in 0..iters {
                                    black_box(
                                        bench::step(method, net.clone(), &x, &y).expect("step").1,
                                    );
                                }
                                start.elapsed()
                            })
                        })
                    });
                }
            }
        }
        group.finish();
    }
}

fn gradients_only(c: &mut Criterion) {
    for shape in bench::shapes() {
        let mut group = c.benchmark_group(format!("gradients/{}", shape.name));
        group.sample_size(10);
        for backend in Backend::ALL {
            for precision in Precision::ALL {
                let (net, x, y) = shape.setup(&backend, precision).expect("benchmark setup");
                let id = |m: &str| BenchmarkId::new(m, format!("{backend}-{precision}"));
                group.bench_function(id("Manual"), |b| {
                    b.iter(|| {
                        black_box(
                            net.gradients(x.clone(), y.clone(), bench::WEIGHT_DECAY)
                                .expect("grads")
                                .cost,
                        )
                    })
                });
                group.bench_function(id("Autodiff"), |b| {
                    b.iter(|| {
                        black_box(
                            autodiff_gradients(&net, x.clone(), y.clone(), bench::WEIGHT_DECAY)
                                .expect("grads")
                                .cost,
                        )
                    })
                });
            }
        }
        group.finish();
    }
}

/// The step's matrix products over all layers of a shape, with the weight
/// stored as `Dense` stores it (`row`: `[s_l, s_{l+1}]`, W transposed) or as
/// burn-nn's `LinearLayout::Col` and the reference store it (`col`:
/// `[s_{l+1}, s_l]`, W itself), the other operand a transposed view as needed:
///
/// ```text
///               row                     col
/// forward       A · weight              A · Wᵀ (view)
/// weight grad   Aᵀ (view) · δ           δᵀ (view) · A
/// delta down    δ · weightᵀ (view)      δ · W
/// ```
///
/// Whichever layout makes each product cheapest on a backend is the one a
/// layer should store; the three products are timed separately because a
/// layout can help one and hurt another.
fn layouts(c: &mut Criterion) {
    for shape in bench::shapes() {
        let mut group = c.benchmark_group(format!("layout/{}", shape.name));
        group.sample_size(20);
        for backend in Backend::ALL {
            let device = backend.device().expect("CPU backend");
            let precision = Precision::F32;
            let random = |rows: usize, cols: usize, seed: u64| {
                let values = (0..rows * cols)
                    .map(|i| ((i as u64 * 2654435761 + seed) % 1000) as f64 / 1000.0 - 0.5)
                    .collect();
                tensor::matrix("random", values, [rows, cols], &device, precision)
                    .expect("benchmark tensor")
            };
            let layers: Vec<_> = shape
                .sizes
                .windows(2)
                .map(|w| {
                    let (d_in, d_out) = (w[0], w[1]);
                    (
                        random(shape.m, d_in, 1),
                        random(d_in, d_out, 2),
                        random(d_out, d_in, 3),
                        random(shape.m, d_out, 4),
                    )
                })
                .collect();
            let id = |product: &str, layout: &str| {
                BenchmarkId::new(
                    format!("{product}/{layout}"),
                    format!("{backend}-{precision}"),
                )
            };
            let mut time = |name: &str, layout: &str, product: &dyn Fn(usize) -> Option<_>| {
                group.bench_function(id(name, layout), |b| {
                    b.iter(|| {
                        for l in 0..layers.len() {
                            drop(black_box(product(l)));
                        }
                        device.sync().expect("sync")
                    })
                });
            };
            let (a, w_row, w_col, d) = (
                |l: usize| layers[l].0.clone(),
                |l: usize| layers[l].1.clone(),
                |l: usize| layers[l].2.clone(),
                |l: usize| layers[l].3.clone(),
            );
            time("forward", "row", &|l| Some(a(l).matmul(w_row(l))));
            time("forward", "col", &|l| {
                Some(a(l).matmul(w_col(l).transpose()))
            });
            time("weight-grad", "row", &|l| {
                Some(a(l).transpose().matmul(d(l)))
            });
            time("weight-grad", "col", &|l| {
                Some(d(l).transpose().matmul(a(l)))
            });
            // The first layer sends no delta down.
            time("delta-down", "row", &|l| {
                (l > 0).then(|| d(l).matmul(w_row(l).transpose()))
            });
            time("delta-down", "col", &|l| {
                (l > 0).then(|| d(l).matmul(w_col(l)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, steps, gradients_only, layouts);
criterion_main!(benches);
