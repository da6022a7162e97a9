//! What the outcomes of every operation add up to: the lines printed (one per operation, the
//! distinct answers in breach of the contract, success coverage per document, how often the
//! generator meant what the contract judged), and the numbers the test asserts.

use std::collections::BTreeMap;

use crate::judge::Outcome;

/// Failures printed per operation (the rest are counted).
const SHOWN_PER_OPERATION: usize = 3;

pub struct Report {
    pub outcomes: Vec<Outcome>,
}

impl Report {
    pub fn print(&self, documents: &[&'static str]) {
        for outcome in &self.outcomes {
            println!("{}", outcome.line());
        }
        let mut breaches: BTreeMap<(&str, u16, &str), usize> = BTreeMap::new();
        for outcome in &self.outcomes {
            for ((status, message), n) in &outcome.breaches {
                *breaches
                    .entry((&outcome.operation, *status, message))
                    .or_default() += n;
            }
        }
        if !breaches.is_empty() {
            println!("\ndistinct answers in breach of the contract:");
            for ((operation, status, message), n) in &breaches {
                println!("  {operation} {status} ({n}x): {message}");
            }
        }
        println!();
        for document in documents {
            let (succeeded, all) = self.coverage(document);
            println!("{document}: {succeeded} of {all} operations reached a success");
        }
        let (valid, invalid) = self.generator();
        println!(
            "the contract accepts {} of {} generated valid requests and refuses {} of {} \
             generated invalid ones",
            valid.1, valid.0, invalid.1, invalid.0
        );
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for outcome in &self.outcomes {
            for (kind, n) in &outcome.kinds {
                *kinds.entry(kind).or_default() += n;
            }
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        println!("failed exchanges by kind: {}", kinds.join(", "));
        for outcome in &self.outcomes {
            for failure in outcome.failures.iter().take(SHOWN_PER_OPERATION) {
                println!("\n{failure}");
            }
            if outcome.failures.len() > SHOWN_PER_OPERATION {
                println!(
                    "\n({} more failures of {})",
                    outcome.failures.len() - SHOWN_PER_OPERATION,
                    outcome.operation
                );
            }
        }
    }

    pub fn failures(&self) -> usize {
        self.outcomes.iter().map(|o| o.failures.len()).sum()
    }

    /// Operations of `document` that reached a success at least once, of all its operations.
    pub fn coverage(&self, document: &str) -> (usize, usize) {
        let mine = self.outcomes.iter().filter(|o| o.document == document);
        let all = mine.clone().count();
        (mine.filter(|o| o.succeeded()).count(), all)
    }

    /// (generated, judged as meant) for the valid cases, then for the invalid ones.
    pub fn generator(&self) -> ((usize, usize), (usize, usize)) {
        let add = |a: (usize, usize), b: (usize, usize)| (a.0 + b.0, a.1 + b.1);
        let valid = self.outcomes.iter().map(|o| o.valid).fold((0, 0), add);
        let invalid = self.outcomes.iter().map(|o| o.invalid).fold((0, 0), add);
        (valid, invalid)
    }
}
