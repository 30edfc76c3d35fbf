//! One training step and the gradient computation alone, hand-written vs
//! burn-autodiff, on ndarray and flex, f32 and f64, for the three shapes of
//! `manual_backprop::bench::shapes()`. Run with `cargo bench --bench step`;
//! `backprop bench` runs the same grid faster with a plain median.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use manual_backprop::bench::{self, Method};
use manual_backprop::verification::autodiff_gradients;
use manual_backprop::{Backend, Precision};
use std::hint::black_box;

fn steps(c: &mut Criterion) {
    for shape in bench::shapes() {
        let mut group = c.benchmark_group(format!("step/{}", shape.name));
        group.sample_size(10);
        for backend in Backend::ALL {
            for precision in Precision::ALL {
                let (net, x, y) = shape.setup(&backend, precision).expect("benchmark setup");
                for method in [Method::Manual, Method::Autodiff] {
                    let id =
                        BenchmarkId::new(format!("{method:?}"), format!("{backend}-{precision}"));
                    group.bench_function(id, |b| {
                        b.iter(|| bench::step(method, net.clone(), &x, &y).expect("step").1)
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

criterion_group!(benches, steps, gradients_only);
criterion_main!(benches);
