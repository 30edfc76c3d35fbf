//! The library's errors name the settings they concern as fields, in
//! backticks (`` `batch_size` ``); on the command line those settings are
//! flags, so the message a user of `backprop` reads names the flag instead.

use clap::Command;
use std::collections::BTreeMap;

/// `message` with every backticked name that is the id of an argument of
/// `command` or of one of its subcommands written as that argument's flag:
/// `` omit `batch_size` `` → `omit --batch-size`. Other backticked text is
/// left as it is.
pub fn in_flags(message: &str, command: &Command) -> String {
    let mut flags = BTreeMap::new();
    collect_long_flags(command, &mut flags);
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else { break };
        let name = &after[..close];
        out.push_str(&rest[..open]);
        match flags.get(name) {
            Some(flag) => {
                out.push_str("--");
                out.push_str(flag);
            }
            None => {
                out.push('`');
                out.push_str(name);
                out.push('`');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Every argument id with a long flag, the first spelling found winning
/// (subcommands share ids and flags: `dtype` is `--dtype` everywhere).
fn collect_long_flags(command: &Command, flags: &mut BTreeMap<String, String>) {
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long() {
            flags
                .entry(arg.get_id().to_string())
                .or_insert_with(|| long.to_string());
        }
    }
    for sub in command.get_subcommands() {
        collect_long_flags(sub, flags);
    }
}

#[cfg(test)]
mod tests {
    use super::in_flags;
    use crate::Precision;
    use crate::app::Cli;
    use crate::error::Error;
    use clap::CommandFactory;

    fn shown(error: Error) -> String {
        in_flags(&error.to_string(), &Cli::command())
    }

    #[test]
    fn a_refused_precision_names_the_dtype_and_backend_flags() {
        let message = shown(Error::UnsupportedPrecision {
            device: "wgpu".into(),
            precision: Precision::F64,
            reason: "no f64".into(),
        });
        assert!(message.contains("Use --dtype f32"), "{message}");
        assert!(message.contains("(--backend flex)"), "{message}");
        assert!(!message.contains('`'), "{message}");
    }

    #[test]
    fn a_memory_error_names_the_batch_size_and_max_memory_flags() {
        let message = shown(Error::Memory {
            what: "training".into(),
            needed: "30.0 GB".into(),
            limit: "4.0 GB (the `max_memory` limit)".into(),
        });
        assert!(message.contains("(--batch-size)"), "{message}");
        assert!(message.contains("(the --max-memory limit)"), "{message}");
        assert!(message.contains("(--max-memory)"), "{message}");
    }

    #[test]
    fn text_that_names_no_argument_keeps_its_backticks() {
        let command = Cli::command();
        assert_eq!(
            in_flags("see the `verification` module; `token_file`", &command),
            "see the `verification` module; --token-file"
        );
        assert_eq!(in_flags("an odd ` quote", &command), "an odd ` quote");
    }
}
