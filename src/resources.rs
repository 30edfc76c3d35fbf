//! Memory estimates before large allocations.
//!
//! Asking for a network that does not fit used to end in an allocation-failure
//! abort (`--hidden 100000000`) or in the kernel killing the process after it
//! filled the machine (`--hidden 3000000`). Every large allocation of a run —
//! a network, its training data and the step's working set, a gradient check —
//! is estimated first and compared with the memory this process may use: the
//! `--max-memory` limit ([`set_limit`]) or, without one, what the operating
//! system reports as available. Over it, the work stops with an error giving
//! both numbers, before anything is allocated.
//!
//! The estimates count tensor elements (parameters, activations, gradients,
//! optimizer state, data) times the precision's size; they are deliberately
//! generous (a few copies of every activation), since an estimate that is too
//! low is the one that lets the kernel kill the process.

use crate::Precision;
use crate::error::{Error, Result};
use std::sync::Mutex;

/// The user's `--max-memory`, in bytes; `None` leaves the operating system's
/// available memory as the limit.
static LIMIT: Mutex<Option<u64>> = Mutex::new(None);

/// Sets (or clears) the limit every estimate is checked against.
#[cfg(feature = "cli")]
pub fn set_limit(bytes: Option<u64>) {
    *LIMIT.lock().unwrap_or_else(|e| e.into_inner()) = bytes;
}

/// `4G`, `512M`, `1.5GiB`, `2000000000`: a size in bytes (K/M/G/T are powers
/// of 1024, with or without `iB`/`B`).
#[cfg(feature = "cli")]
pub fn parse_size(text: &str) -> Result<u64> {
    let invalid = |reason: &str| Error::InvalidParameter {
        name: "max_memory",
        value: text.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let number_end = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(number_end);
    let value: f64 = number
        .parse()
        .map_err(|_| invalid("expected a size such as 4G, 512M or 2000000000"))?;
    let scale = match unit.trim().trim_end_matches("ib").trim_end_matches('b') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0_f64.powi(2),
        "g" => 1024.0_f64.powi(3),
        "t" => 1024.0_f64.powi(4),
        _ => return Err(invalid("unknown unit: use K, M, G or T")),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(invalid("must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// Memory the operating system says a new allocation can use now
/// (`MemAvailable` of /proc/meminfo); `None` where it cannot tell.
pub fn available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A byte count as a person reads it: `25.6 GB`, `512 MB`.
pub fn readable_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Stops with [`Error::Memory`] when `bytes` exceed the limit: [`set_limit`]'s
/// if set, else the memory available now.
pub fn ensure_fits(what: &str, bytes: f64) -> Result<()> {
    let set = *LIMIT.lock().unwrap_or_else(|e| e.into_inner());
    match set {
        Some(limit) => within(what, bytes, limit, "the `max_memory` limit"),
        None => match available() {
            Some(available) => within(what, bytes, available, "the memory available now"),
            None => Ok(()),
        },
    }
}

/// [`Error::Memory`] when `bytes` exceed `limit`, which `source` names.
pub(crate) fn within(what: &str, bytes: f64, limit: u64, source: &str) -> Result<()> {
    if bytes > limit as f64 {
        return Err(Error::Memory {
            what: what.to_string(),
            needed: readable_bytes(bytes),
            limit: format!("{} ({source})", readable_bytes(limit as f64)),
        });
    }
    Ok(())
}

/// Elements of a network's parameters: Σ s_l s_{l+1} + s_{l+1}.
pub fn parameter_count(sizes: &[usize]) -> f64 {
    sizes
        .windows(2)
        .map(|w| (w[0] as f64) * (w[1] as f64) + w[1] as f64)
        .sum()
}

/// Bytes of a network's parameters in `precision`.
pub fn network_bytes(sizes: &[usize], precision: Precision) -> f64 {
    parameter_count(sizes) * element_bytes(precision)
}

fn element_bytes(precision: Precision) -> f64 {
    match precision {
        Precision::F32 => 4.0,
        Precision::F64 => 8.0,
    }
}

/// What a training run holds at its peak, in bytes.
///
/// - parameters ×4: the network, its gradient, the previous epoch's network
///   (kept in case the next diverges) and the best one, plus
///   `optimizer_state` parameter-sized copies the optimizer keeps
///   (`OptimizerConfig::state_copies`);
/// - the data on the device: `rows` examples of `sizes[0]` inputs and
///   `sizes[last]` targets (training, validation and test sets together);
/// - one step's working set on a batch of `batch` rows: z, a, f′ and δ of
///   every layer, with a transposed copy (×5 each);
/// - evaluation's forward pass over the largest set (`eval_rows`), two
///   activations of the widest layer at a time.
#[cfg(feature = "cli")]
pub fn training_bytes(
    sizes: &[usize],
    precision: Precision,
    rows: usize,
    batch: usize,
    eval_rows: usize,
    optimizer_state: f64,
) -> f64 {
    let params = parameter_count(sizes);
    let (n_in, n_out) = (sizes[0] as f64, sizes[sizes.len() - 1] as f64);
    let data = rows as f64 * (n_in + n_out);
    let units: f64 = sizes.iter().map(|&s| s as f64).sum();
    let widest = sizes.iter().copied().max().unwrap_or(0) as f64;
    let step = 5.0 * batch as f64 * units;
    let evaluation = 2.0 * eval_rows as f64 * widest;
    (params * (4.0 + optimizer_state) + data + step + evaluation) * element_bytes(precision)
}

#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_the_usual_spellings() {
        assert_eq!(parse_size("2000").unwrap(), 2000);
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5gb").unwrap(), 3 << 29);
        for bad in ["", "G", "-1G", "4X", "0", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_estimate_counts_a_64_by_100m_layer_as_tens_of_gigabytes() {
        // 64·1e8 + 1e8 + 1e8·10 + 10 ≈ 7.5e9 parameters of 4 bytes.
        let bytes = network_bytes(&[64, 100_000_000, 10], Precision::F32);
        assert!((bytes - 4.0 * 7.5e9).abs() < 1e9, "{bytes}");
        assert_eq!(readable_bytes(bytes), "30.0 GB");
    }

    #[test]
    fn a_limit_below_the_estimate_is_an_error_naming_both() {
        let error = within("a test", 5e6, 1 << 20, "a limit")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("5.0 MB") && error.contains("1.0 MB"),
            "{error}"
        );
    }
}
