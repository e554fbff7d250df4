//! The reference's "Bad input" table (`docs/api.md`) promises one browser test per row: this
//! checks that every row names a test of `tests/web_bad_input.rs` and that every such test has
//! a row.

use std::collections::BTreeSet;

const REFERENCE: &str = include_str!("../docs/api.md");
const TESTS: &str = include_str!("web_bad_input.rs");

/// The last column of each body row of the table under "## Bad input".
fn rows() -> Vec<String> {
    let section = REFERENCE
        .split("\n## Bad input\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a \"## Bad input\" section in docs/api.md");
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---") && !l.starts_with("| bad input"))
        .map(|l| {
            let last = l.trim_end_matches('|').rsplit('|').next().unwrap_or("");
            last.trim().trim_matches('`').to_string()
        })
        .collect()
}

/// The scenario names listed in `scenarios_with_dev_server!("/tests/browser/bad_input.js": …)`.
fn tests() -> BTreeSet<String> {
    let list = TESTS
        .split("scenarios_with_dev_server!(\"/tests/browser/bad_input.js\":")
        .nth(1)
        .and_then(|rest| rest.split(");").next())
        .expect("a scenarios_with_dev_server! list in tests/web_bad_input.rs");
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn every_row_has_a_test_and_every_test_a_row() {
    let rows = rows();
    let tests = tests();
    assert!(rows.len() >= 20, "the table has {} rows", rows.len());
    let named: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(
        named.len(),
        rows.len(),
        "two rows name the same test: {rows:?}"
    );
    let without_test: Vec<_> = named.difference(&tests).collect();
    let without_row: Vec<_> = tests.difference(&named).collect();
    assert!(
        without_test.is_empty(),
        "rows without a test: {without_test:?}"
    );
    assert!(
        without_row.is_empty(),
        "tests without a row: {without_row:?}"
    );
}

#[test]
fn every_test_has_a_scenario() {
    let scenarios = include_str!("browser/bad_input.js");
    for name in tests() {
        assert!(
            scenarios.contains(&format!("  async {name}(")),
            "tests/browser/bad_input.js has no scenario {name}"
        );
    }
}
