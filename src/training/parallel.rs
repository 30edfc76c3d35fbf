//! Data-parallel gradients: each device computes the hand-written gradients
//! of its shard of the batch, and the shards' gradients are combined into the
//! gradient of the whole batch.
//!
//! With shards of m_k rows (Σ m_k = m), shard k's gradient is
//! g_k = (1/m_k) ΔW_k + λW, so
//!
//! ```text
//! Σ_k (m_k / m) g_k = (1/m) Σ_k ΔW_k + λW = (1/m) ΔW + λW = ∂J/∂W
//! ```
//!
//! (the decay term's weights sum to 1), and likewise for J itself and the
//! biases: in exact arithmetic the combination *is* the single-device
//! gradient. The parameters stay on one device (the network's); each step
//! copies them to the shards' devices and brings the weighted gradients back
//! with burn's `to_device`. burn's collective operations (`all_reduce`) are
//! not used: flex and ndarray do not implement them, and a mix of a remote and
//! a local device shares no communication server.

use super::objective::{Batch, Objective};
use crate::error::{Error, Result};
use crate::gradients::GradientSource;
use crate::layer::DenseGrads;
use crate::network::{Gradients, Network};
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::ops::Range;

/// A training set copied onto several devices, ready to be split.
#[derive(Debug, Clone)]
pub struct DataParallel {
    replicas: Vec<Replica>,
}

#[derive(Debug, Clone)]
struct Replica {
    device: Device,
    x: Tensor<2>,
    y: Tensor<2>,
}

impl DataParallel {
    /// Copies a training set's inputs `x` and targets `y` onto each of
    /// `devices` (once: later steps send only parameters, gradients and row
    /// indices).
    pub fn new(devices: &[Device], x: &Tensor<2>, y: &Tensor<2>) -> Result<DataParallel> {
        if devices.is_empty() {
            return Err(Error::InvalidParameter {
                name: "devices",
                value: String::new(),
                reason: "data-parallel training needs at least one device".into(),
            });
        }
        Ok(DataParallel {
            replicas: devices
                .iter()
                .map(|device| Replica {
                    device: device.clone(),
                    x: x.clone().to_device(device),
                    y: y.clone().to_device(device),
                })
                .collect(),
        })
    }

    /// The devices that share the work, in shard order.
    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.replicas.iter().map(|r| &r.device)
    }

    /// How many devices share the work.
    pub fn len(&self) -> usize {
        self.replicas.len()
    }

    /// Always false: [`DataParallel::new`] refuses an empty device list.
    pub fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// The whole training set, in contiguous shards, one per device.
    pub fn full_batch(&self, weight_decay: f64, source: GradientSource) -> ShardedBatch {
        let m = self.replicas[0].x.dims()[0];
        let shards = shard_ranges(0..m, self.len())
            .zip(&self.replicas)
            .map(|(rows, r)| Batch {
                x: r.x.clone().slice(rows.clone()),
                y: r.y.clone().slice(rows),
                weight_decay,
                source,
            })
            .collect();
        ShardedBatch { shards }
    }

    /// An epoch's shuffled row order, uploaded to every device once, for
    /// [`DataParallel::batch`].
    pub fn upload_order(&self, order: &[i64]) -> Vec<Tensor<1, Int>> {
        self.replicas
            .iter()
            .map(|r| Tensor::from_data(TensorData::new(order.to_vec(), [order.len()]), &r.device))
            .collect()
    }

    /// The mini-batch of rows `order[positions]`, split over the devices.
    pub fn batch(
        &self,
        orders: &[Tensor<1, Int>],
        positions: Range<usize>,
        weight_decay: f64,
        source: GradientSource,
    ) -> ShardedBatch {
        let shards = shard_ranges(positions, self.len())
            .zip(self.replicas.iter().zip(orders))
            .map(|(part, (r, order))| {
                let rows = order.clone().slice(part);
                Batch {
                    x: r.x.clone().select(0, rows.clone()),
                    y: r.y.clone().select(0, rows),
                    weight_decay,
                    source,
                }
            })
            .collect();
        ShardedBatch { shards }
    }
}

/// `range` cut into `parts` contiguous pieces whose lengths differ by at most
/// one; empty pieces (fewer rows than devices) are left out.
fn shard_ranges(range: Range<usize>, parts: usize) -> impl Iterator<Item = Range<usize>> {
    let (len, start) = (range.len(), range.start);
    (0..parts).filter_map(move |k| {
        let begin = start + k * len / parts;
        let end = start + (k + 1) * len / parts;
        (end > begin).then_some(begin..end)
    })
}

/// One batch split into shards on several devices: an [`Objective`] whose
/// value and gradient are those of the whole batch.
#[derive(Debug, Clone)]
pub struct ShardedBatch {
    shards: Vec<Batch>,
}

impl ShardedBatch {
    /// Rows in each shard, in device order.
    pub fn shard_sizes(&self) -> Vec<usize> {
        self.shards.iter().map(|s| s.x.dims()[0]).collect()
    }

    /// m_k / m for each shard.
    fn weights(&self) -> Vec<f64> {
        let sizes = self.shard_sizes();
        let m: usize = sizes.iter().sum();
        sizes.iter().map(|&k| k as f64 / m as f64).collect()
    }

    /// The network's parameters on each shard's device.
    fn replicas(&self, network: &Network) -> Vec<Network> {
        self.shards
            .iter()
            .map(|s| network.clone().to_device(&s.x.device()))
            .collect()
    }
}

/// Σ_k w_k g_k on `device`.
fn combine(per_shard: Vec<Vec<DenseGrads>>, weights: &[f64], device: &Device) -> Vec<DenseGrads> {
    DenseGrads::sum_layers(per_shard.into_iter().zip(weights).map(|(grads, &w)| {
        grads
            .into_iter()
            .map(|g| g.to_device(device).mul_scalar(w))
            .collect::<Vec<_>>()
    }))
}

impl Objective for ShardedBatch {
    fn gradients(&self, network: &Network) -> Result<Vec<DenseGrads>> {
        // Every shard's work is queued before any result is moved, so that
        // remote devices compute at the same time.
        let per_shard = self
            .shards
            .iter()
            .zip(self.replicas(network))
            .map(|(shard, local)| shard.gradients(&local))
            .collect::<Result<Vec<_>>>()?;
        Ok(combine(per_shard, &self.weights(), &network.device()))
    }

    fn cost_and_gradients(&self, network: &Network) -> Result<Gradients> {
        let weights = self.weights();
        let mut cost = 0.0;
        let mut per_shard = Vec::with_capacity(self.shards.len());
        for ((shard, local), w) in self.shards.iter().zip(self.replicas(network)).zip(&weights) {
            let g = shard.cost_and_gradients(&local)?;
            cost += w * g.cost;
            per_shard.push(g.layers);
        }
        Ok(Gradients {
            cost,
            layers: combine(per_shard, &weights, &network.device()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::shard_ranges;

    #[test]
    fn shards_cover_the_rows_once_and_differ_by_at_most_one() {
        for (m, k) in [(10, 3), (3, 5), (1797, 2), (7, 7)] {
            let sizes: Vec<usize> = shard_ranges(5..5 + m, k).map(|r| r.len()).collect();
            assert_eq!(sizes.iter().sum::<usize>(), m);
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            let mut next = 5;
            for r in shard_ranges(5..5 + m, k) {
                assert_eq!(r.start, next);
                next = r.end;
            }
        }
    }
}
