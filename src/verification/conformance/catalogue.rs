//! The case table as Markdown: one row per family (the operation, the
//! burn-autodiff operations whose backward it exercises, its samples, what
//! it guards). docs/conformance.md embeds it, and a test keeps the two equal,
//! so the documented table is always the one that runs.

use super::Family;
use std::fmt::Write;
use std::sync::Arc;

/// The header line of the table, as docs/conformance.md carries it.
pub const HEADER: &str = "| operation | burn ops | samples (quick ones in bold) | guards |";

/// The Markdown table of `families`, one row each, in the sweep's order.
pub fn markdown(families: &[Arc<Family>]) -> String {
    let mut table = format!("{HEADER}\n|---|---|---|---|\n");
    for family in families {
        let samples: Vec<String> = family
            .samples
            .iter()
            .map(|s| match s.quick {
                true => format!("**{s}**"),
                false => s.to_string(),
            })
            .collect();
        // A pipe inside a cell would split it; the sweep's texts have none
        // today, and escaping keeps it so if one is added.
        let cell = |text: &str| text.replace('|', "\\|");
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} |",
            cell(family.op),
            cell(&family.covers.join(", ")),
            cell(&samples.join("; ")),
            cell(family.why),
        );
    }
    table
}
