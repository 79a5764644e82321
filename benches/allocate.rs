//! Allocation engine: points/s at 1k fields × 5M points (one and two threads) and 10k fields × 50M points
//! streamed in 1M-point chunks (bounded memory). Data from `furrow_allocate::synthetic`: irregular fields of
//! ~200 vertices, 10 % with a hole, serpentine time-ordered tracks.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use furrow_allocate::synthetic::{self, Layout};
use furrow_allocate::{AllocateOptions, FieldIndex, allocate_xy};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("thread pool")
}

fn bench_1k(c: &mut Criterion) {
    let layout = Layout::new(1_000);
    let index = FieldIndex::build(synthetic::fields(&layout, 1)).expect("index");
    let (xs, ys) = synthetic::track(&layout, 5_000_000, 1);
    let mut g = c.benchmark_group("allocate_1k_fields_5M_points");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(xs.len() as u64));
    g.bench_function("index_build", |b| {
        b.iter(|| FieldIndex::build(synthetic::fields(&layout, 1)).expect("index"))
    });
    for threads in [1usize, 2] {
        let p = pool(threads);
        g.bench_function(format!("{threads}_thread"), |b| {
            b.iter(|| {
                p.install(|| {
                    allocate_xy(
                        &index,
                        &xs,
                        &ys,
                        AllocateOptions {
                            parallel: threads > 1,
                        },
                    )
                    .expect("allocate")
                })
            })
        });
    }
    g.finish();
}

fn bench_10k_streamed(c: &mut Criterion) {
    let layout = Layout::new(10_000);
    let index = FieldIndex::build(synthetic::fields(&layout, 2)).expect("index");
    // One pass over the whole extent is 50M points; stream it as 50 chunks of the same track generator.
    let total = 50_000_000usize;
    let chunk = 1_000_000usize;
    let (xs, ys) = synthetic::track(&layout, total, 2);
    let mut g = c.benchmark_group("allocate_10k_fields_50M_points_streamed");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(total as u64));
    for threads in [1usize, 2] {
        let p = pool(threads);
        g.bench_function(format!("{threads}_thread"), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    for start in (0..total).step_by(chunk) {
                        let (x, y) = (&xs[start..start + chunk], &ys[start..start + chunk]);
                        let t = Instant::now();
                        let a = p.install(|| {
                            allocate_xy(
                                &index,
                                x,
                                y,
                                AllocateOptions {
                                    parallel: threads > 1,
                                },
                            )
                            .expect("allocate")
                        });
                        spent += t.elapsed();
                        black_box(a.outside);
                    }
                }
                spent
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_1k, bench_10k_streamed);
criterion_main!(benches);
