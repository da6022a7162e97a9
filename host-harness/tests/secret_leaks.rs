//! No secret in any output of the whole suite. `scripts/test` runs every test with
//! `--nocapture` into one log (CLI runs echo what the binary printed, `--verbose` included),
//! then runs the ignored test here on that log (`SUITE_OUTPUT`). It fails on any fixture
//! client secret and on any credential the emulator issued (they all start with
//! [`TOKEN_PREFIX`] and carry 40 hex digits), naming the line but never printing the value.
//! Encoded forms count too: every line is also read percent-decoded, JSON-unescaped, and
//! with each run of base64 (standard or URL-safe, at every alignment) decoded.

use std::borrow::Cow;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use host_harness::emulator::{ClickwrapFixture, TOKEN_PREFIX, default_seed};

/// The secrets the suite's fixtures hold, by name.
fn fixture_secrets() -> Vec<(String, String)> {
    default_seed()
        .clients
        .into_iter()
        .map(|c| (format!("client secret of {}", c.name), c.client_secret))
        .chain(ClickwrapFixture::secrets().map(|(what, secret)| (what.to_string(), secret.into())))
        .collect()
}

/// Where `text` holds a secret, in clear or encoded: (line number, what), never the value.
fn leaks(text: &str) -> Vec<(usize, String)> {
    let secrets = fixture_secrets();
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for view in views(line) {
            for (what, value) in &secrets {
                if view.contains(value.as_str()) {
                    found.push((n + 1, what.clone()));
                }
            }
            let token = view.match_indices(TOKEN_PREFIX).any(|(at, _)| {
                view[at + TOKEN_PREFIX.len()..]
                    .bytes()
                    .take_while(u8::is_ascii_hexdigit)
                    .count()
                    >= 40
            });
            if token {
                found.push((n + 1, "an emulator-issued token or code".into()));
            }
        }
    }
    found.dedup();
    found
}

/// `line` as written and decoded every way a secret may be encoded on its way out.
fn views(line: &str) -> Vec<Cow<'_, str>> {
    let mut views = vec![Cow::Borrowed(line)];
    let decoded = percent_encoding::percent_decode_str(line).decode_utf8_lossy();
    if decoded != line {
        views.push(Cow::Owned(decoded.into_owned()));
    }
    let unescaped = json_unescaped(line);
    if unescaped != line {
        views.push(Cow::Owned(unescaped));
    }
    for run in base64_runs(line) {
        for skip in 0..4 {
            let Some(run) = run.get(skip..) else { break };
            let run = run.trim_end_matches('=');
            // A run cut anywhere decodes up to its last whole byte.
            let usable = if run.len() % 4 == 1 {
                run.len() - 1
            } else {
                run.len()
            };
            for engine in lenient() {
                if let Ok(bytes) = engine.decode(&run[..usable]) {
                    views.push(Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
    }
    views
}

/// Both base64 alphabets, accepting what a cut run ends with (stray bits, no padding).
fn lenient() -> [GeneralPurpose; 2] {
    let config = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    [
        GeneralPurpose::new(&alphabet::STANDARD, config),
        GeneralPurpose::new(&alphabet::URL_SAFE, config),
    ]
}

/// Runs of base64 alphabet (either variant) long enough to hide a secret.
fn base64_runs(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')))
        .filter(|run| run.len() >= 16)
}

/// JSON escapes resolved (a backslash-u with four hex digits, and an escaped slash), as a JSON
/// string would read.
fn json_unescaped(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(hex) = tail.strip_prefix("\\u").and_then(|t| t.get(..4))
            && let Some(c) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
        {
            out.push(c);
            rest = &tail[6..];
        } else if let Some(t) = tail.strip_prefix("\\/") {
            out.push('/');
            rest = t;
        } else {
            out.push('\\');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
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

    // Encoded forms: base64 at every alignment and in both alphabets, percent-encoded,
    // JSON-escaped; in a longer encoded text too (HTTP Basic credentials).
    let basic = STANDARD_NO_PAD.encode(format!("client-id:{secret}"));
    let embedded = URL_SAFE_NO_PAD.encode(format!("xx{token}yy"));
    let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
    let json_escaped: String = secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    for (i, line) in [
        format!("Authorization: Basic {basic}"),
        format!("state={embedded}&x=1"),
        format!("body: client_secret={percent}"),
        format!("{{\"secret\": \"{json_escaped}\"}}"),
    ]
    .iter()
    .enumerate()
    {
        assert!(!leaks(line).is_empty(), "encoded form {i} not found");
    }
    assert!(leaks(&STANDARD_NO_PAD.encode("nothing secret here at all")).is_empty());
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
