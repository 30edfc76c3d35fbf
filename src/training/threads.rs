//! How many CPU threads a run's steps use.
//!
//! burn's CPU backends split a matrix product over rayon's threads once it
//! has more than 192³ multiply-adds (burn-flex's `PARALLEL_THRESHOLD`), and
//! their element-wise passes over large tensors too. Every split wakes the
//! other threads and waits for them. A mini-batch step of MNIST 784-300-10
//! with m = 32 has three products just over that line, ~0.1 ms each, and on
//! this project's 2-core machine the wake-ups cost more than the second core
//! gives back: one epoch took 0.72 s on two threads and 0.48 s on one. At
//! m = 128 one thread still won (0.30 s against 0.33 s), at m = 256 two did
//! (0.25 s against 0.28 s) (`backprop train --dataset mnist --hidden 300
//! --batch-size M` under `RAYON_NUM_THREADS=1` and `2`, docs/performance.md).
//! So steps whose largest product is small run on one thread of their own;
//! the evaluation after each epoch (a forward pass over the whole data set)
//! keeps all of them.

use crate::backend::Backend;
use crate::network::Network;
use burn::tensor::Device;

/// Multiply-adds of a step's largest matrix product (m · s_l · s_{l+1})
/// from which the step uses all of rayon's threads: 2²⁵ ≈ 3.4e7, between the
/// m = 128 (3.0e7, faster on one thread) and m = 256 (6.0e7, faster on two)
/// MNIST steps measured above.
pub const ALL_THREADS_FROM: usize = 1 << 25;

/// The multiply-adds of the largest product in one step on a batch of `m`
/// examples: the forward product of the widest layer (its weight gradient
/// and the delta sent down cost the same).
pub fn largest_product(network: &Network, m: usize) -> usize {
    network
        .sizes()
        .windows(2)
        .map(|w| m.saturating_mul(w[0]).saturating_mul(w[1]))
        .max()
        .unwrap_or(0)
}

/// A one-thread pool for the steps of a run on `device` with batches of `m`,
/// or `None` to use rayon's global pool: on a CPU backend whose step's
/// largest product is below [`ALL_THREADS_FROM`]. GPU and remote devices
/// never get one: their host thread only queues work; nor does libtorch,
/// whose threads are its own (ATen's OpenMP loops pay for themselves: a tch
/// step under `OMP_NUM_THREADS=1` was 1.03–1.78× slower on every small
/// shape, docs/performance.md).
pub fn step_pool(network: &Network, m: usize, device: &Device) -> Option<rayon::ThreadPool> {
    let host = Backend::ALL
        .iter()
        .filter(|b| b.runs_on_rayon())
        .any(|b| b.device().is_ok_and(|d| d == *device));
    if !host || largest_product(network, m) >= ALL_THREADS_FROM {
        return None;
    }
    // A pool that cannot start a thread (resource limits) leaves the run on
    // the global pool: slower, never wrong.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "backprop-step".into())
        .build()
        .ok()
}

/// Runs `work` on the threads that the steps of a run of `network` on
/// `device` with batches of `m` use ([`step_pool`]): for measuring a step
/// (time, memory) as training runs it.
pub fn like_steps<R: Send>(
    network: &Network,
    m: usize,
    device: &Device,
    work: impl FnOnce() -> R + Send,
) -> R {
    match step_pool(network, m, device) {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::{ALL_THREADS_FROM, largest_product, like_steps};
    use crate::Precision;
    use crate::network::{Network, NetworkConfig};
    use burn::module::Module;
    use burn::tensor::Device;

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    fn network(sizes: &[usize], device: &Device) -> Network {
        NetworkConfig::new(sizes.to_vec())
            .init(device, Precision::F32)
            .unwrap()
    }

    #[test]
    fn the_largest_product_is_the_widest_layers_forward() {
        let device = Device::flex();
        // max(32·784·300, 32·300·10)
        assert_eq!(
            largest_product(&network(&[784, 300, 10], &device), 32),
            7_526_400
        );
        // The widest pair need not be the first: max(10·64·25, 10·25·1000).
        assert_eq!(
            largest_product(&network(&[64, 25, 1000], &device), 10),
            250_000
        );
        assert_eq!(largest_product(&network(&[784, 300, 10], &device), 0), 0);
    }

    #[test]
    fn small_steps_run_on_their_own_thread_and_large_ones_on_the_callers() {
        let device = Device::flex();
        let net = network(&[784, 300, 10], &device);
        let caller = thread_name();
        // m = 142: 142·784·300 = 33,398,400, just under 2²⁵ = 33,554,432.
        assert!(largest_product(&net, 142) < ALL_THREADS_FROM);
        assert_eq!(
            like_steps(&net, 142, &device, thread_name).as_deref(),
            Some("backprop-step")
        );
        // m = 143: 33,633,600, over it.
        assert!(largest_product(&net, 143) >= ALL_THREADS_FROM);
        assert_eq!(like_steps(&net, 143, &device, thread_name), caller);
        // The same on ndarray, the other CPU backend.
        let ndarray = crate::Backend::Ndarray.device().unwrap();
        let net = net.to_device(&ndarray);
        assert_eq!(
            like_steps(&net, 32, &ndarray, thread_name).as_deref(),
            Some("backprop-step")
        );
    }
}
