//! No secret in any output of the whole suite. `scripts/test` runs every test with
//! `--nocapture` into one log (CLI runs echo what the binary printed, `--verbose` included),
//! then runs the ignored test here on that log (`SUITE_OUTPUT`). It fails on any fixture
//! client secret and on any credential the emulator issued (they all start with
//! [`TOKEN_PREFIX`] and carry 40 hex digits), naming the line but never printing the value.

use host_harness::emulator::{ClickwrapFixture, TOKEN_PREFIX, default_seed};

/// The secrets the suite's fixtures hold, by name.
fn fixture_secrets() -> Vec<(String, String)> {
    default_seed()
        .clients
        .into_iter()
        .map(|c| (format!("client secret of {}", c.name), c.client_secret))
        .chain(
            ClickwrapFixture::secrets()
                .map(|(name, secret)| (format!("client secret of the {name}"), secret.into())),
        )
        .collect()
}

/// Where `text` holds a secret: (line number, what), never the value itself.
fn leaks(text: &str) -> Vec<(usize, String)> {
    let secrets = fixture_secrets();
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (what, value) in &secrets {
            if line.contains(value.as_str()) {
                found.push((n + 1, what.clone()));
            }
        }
        let token = line.match_indices(TOKEN_PREFIX).any(|(at, _)| {
            line[at + TOKEN_PREFIX.len()..]
                .bytes()
                .take_while(u8::is_ascii_hexdigit)
                .count()
                >= 40
        });
        if token {
            found.push((n + 1, "an emulator-issued token or code".into()));
        }
    }
    found
}

#[test]
fn the_scanner_finds_what_it_must_and_nothing_else() {
    let secret = &fixture_secrets()[0].1;
    let token = format!("{TOKEN_PREFIX}{}", "a1".repeat(20));
    let text = format!(
        "ok line\nAuthorization: Bearer {token}\nsecret={secret}\n{TOKEN_PREFIX}short <redacted>\n"
    );
    let found = leaks(&text);
    assert_eq!(
        found.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        [2, 3],
        "{found:?}"
    );
    assert!(leaks("Bearer <redacted>, client_secret: <secret>").is_empty());
}

#[test]
#[ignore = "run by scripts/test on the whole suite's output (SUITE_OUTPUT)"]
fn no_secret_in_the_suite_output() {
    let path = std::env::var("SUITE_OUTPUT")
        .expect("SUITE_OUTPUT names the log of the whole suite (scripts/test sets it)");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    // The log must be the suite's: CLI runs and a refresh under --verbose are in it.
    assert!(
        text.contains("[connector-harness exit") && text.contains("test result:"),
        "{path} does not look like the suite's output"
    );
    let found = leaks(&text);
    assert!(
        found.is_empty(),
        "secrets in the suite's output ({path}):\n{}",
        found
            .iter()
            .map(|(n, what)| format!("  line {n}: {what}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
