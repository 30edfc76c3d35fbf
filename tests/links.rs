//! Every relative link and every `docs/…` path named in README.md, docs/ and
//! src/ exists: a guide moved or renamed fails here, not in a reader's hands.

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// README.md, every Markdown file under docs/ and every Rust file under src/.
fn sources() -> Vec<PathBuf> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut dirs = vec![Path::new(ROOT).join("docs"), Path::new(ROOT).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md" || e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The targets of Markdown links `[text](target)` that name a file of the
/// repository: not a URL, not an anchor alone, not a rustdoc path (`a::b`).
fn relative_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        let is_file = !target.is_empty()
            && !target.contains("://")
            && !target.starts_with("mailto:")
            && !target.contains("::")
            && !target.contains(' ')
            && (target.contains('/') || target.contains('.'));
        if is_file {
            links.push(target.to_string());
        }
    }
    links
}

/// Every `docs/NAME` path in the text (a guide, a script's output), with
/// the punctuation a sentence puts after it removed.
fn docs_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for (at, _) in text.match_indices("docs/") {
        // `../docs/x.md` or `src/docs/` are other paths; the repository's
        // docs/ starts a word.
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '.' || c == '-') {
            continue;
        }
        let path: String = text[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || "_-./".contains(*c))
            .collect();
        let path = path.trim_end_matches(['.', '/']).to_string();
        if path != "docs" {
            paths.push(path);
        }
    }
    paths
}

#[test]
fn every_relative_link_and_docs_path_exists() {
    let mut checked = 0;
    let mut missing = Vec::new();
    for file in sources() {
        let text = std::fs::read_to_string(&file).unwrap();
        let here = file.parent().unwrap();
        let shown = file.strip_prefix(ROOT).unwrap().display().to_string();
        for link in relative_links(&text) {
            checked += 1;
            if !here.join(&link).exists() {
                missing.push(format!("{shown}: link {link}"));
            }
        }
        for path in docs_paths(&text) {
            checked += 1;
            if !Path::new(ROOT).join(&path).exists() {
                missing.push(format!("{shown}: path {path}"));
            }
        }
    }
    assert!(missing.is_empty(), "missing:\n{}", missing.join("\n"));
    // The guides link to each other and the code cites docs/maths.md by
    // section: far more than this many references exist, so a parser that
    // silently finds none fails here.
    assert!(checked > 100, "only {checked} references found");
    eprintln!("{checked} links and docs/ paths checked");
}

#[test]
fn the_parsers_find_what_they_should() {
    let text = "see [maths](docs/maths.md#2-the-neuron), [burn](https://burn.dev), \
                [`Dense`](crate::layer::Dense), (docs/maths.md § 3), `../docs/x.md`";
    assert_eq!(relative_links(text), vec!["docs/maths.md"]);
    assert_eq!(docs_paths(text), vec!["docs/maths.md", "docs/maths.md"]);
}
