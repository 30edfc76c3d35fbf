//! Replays the fuzz targets' seed corpus (`fuzz/seeds/`) and every input the
//! fuzzer found crashing (`fuzz/regressions/`, added as they are found)
//! through the same contracts (`fuzz/harness.rs`): each parser returns a
//! value or a typed error and never panics. `scripts/fuzz.sh` runs the
//! fuzzer itself; CI runs only these replays.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

/// Every file under `fuzz/{seeds,regressions}/<target>/`, through `check`;
/// the seeds are valid files and must be accepted all the way through (so
/// the fuzzer starts from the deep paths), the regressions must merely not
/// panic.
fn replay(target: &str, check: fn(&[u8]) -> bool) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for kind in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let accepted = check(&input);
            assert!(
                accepted || kind == "regressions",
                "seed {} was rejected",
                path.display()
            );
            count += 1;
        }
    }
    count
}

#[test]
fn csv_inputs() {
    assert!(replay("csv", harness::csv) > 0);
}

#[test]
fn idx_inputs() {
    assert!(replay("idx", harness::idx) > 0);
}

#[test]
fn interchange_inputs() {
    assert!(replay("interchange", harness::interchange) > 0);
}

#[test]
fn options_inputs() {
    assert!(replay("options", harness::options) > 0);
}

#[test]
fn burnpack_inputs() {
    assert!(replay("burnpack", harness::burnpack) > 0);
}
