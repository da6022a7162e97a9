//! Fault mode's state: which faults there are, how they are drawn (a generator seeded by the
//! caller, so the same seed and requests give the same faults) and the log of what each API
//! request got. What each fault does to a request is `infra::faults`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    RateLimited,
    Unavailable,
    Slow,
    ExpiredToken,
    ServerError,
    Dropped,
    TruncatedJson,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::RateLimited,
        Fault::Unavailable,
        Fault::Slow,
        Fault::ExpiredToken,
        Fault::ServerError,
        Fault::Dropped,
        Fault::TruncatedJson,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::RateLimited => "rate_limited",
            Fault::Unavailable => "unavailable",
            Fault::Slow => "slow",
            Fault::ExpiredToken => "expired_token",
            Fault::ServerError => "server_error",
            Fault::Dropped => "dropped",
            Fault::TruncatedJson => "truncated_json",
        }
    }

    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// How faults are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    pub seed: u64,
    /// Share of API requests that get a fault, 0.0–1.0.
    pub rate: f64,
    /// The faults to draw from, evenly.
    pub kinds: Vec<Fault>,
    /// `Retry-After` of injected 429s.
    pub retry_after_seconds: u64,
}

impl FaultConfig {
    /// Every fault, on 30% of API requests, 429s asking for one second.
    pub fn seeded(seed: u64) -> Self {
        FaultConfig {
            seed,
            rate: 0.3,
            kinds: Fault::ALL.to_vec(),
            retry_after_seconds: 1,
        }
    }
}

/// The fault state of one tenant, one field of `Data`: the generator (while faults are on) and
/// the log of every API request drawn for.
#[derive(Debug, Default)]
pub struct Faults {
    active: Option<(FaultConfig, StdRng)>,
    log: Vec<Value>,
}

impl Faults {
    pub fn configure(&mut self, config: Option<FaultConfig>) {
        self.active = config.map(|c| {
            let rng = StdRng::seed_from_u64(c.seed);
            (c, rng)
        });
        self.log.clear();
    }

    /// The fault for the next API request (None: untouched), logged; returns its log index.
    pub fn draw(
        &mut self,
        method: &str,
        path: &str,
    ) -> Option<(usize, Option<Fault>, FaultConfig)> {
        let (config, rng) = self.active.as_mut()?;
        let hit = !config.kinds.is_empty() && rng.random_bool(config.rate.clamp(0.0, 1.0));
        let fault = hit.then(|| config.kinds[rng.random_range(0..config.kinds.len())]);
        let config = config.clone();
        self.log.push(json!({
            "seq": self.log.len(),
            "method": method,
            "path": path,
            "fault": fault.map(Fault::name),
            "handler_status": null,
        }));
        Some((self.log.len() - 1, fault, config))
    }

    /// The handler's status for the request logged at `index`.
    pub fn handled(&mut self, index: usize, status: u16) {
        if let Some(entry) = self.log.get_mut(index) {
            entry["handler_status"] = json!(status);
        }
    }

    /// Every API request drawn for since faults were configured.
    pub fn log(&self) -> &[Value] {
        &self.log
    }

    /// A slow answer's delay, from the same generator.
    pub fn delay_ms(&mut self) -> u64 {
        self.active
            .as_mut()
            .map_or(0, |(_, rng)| rng.random_range(50..=400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64, n: usize) -> Vec<Option<Fault>> {
        let mut faults = Faults::default();
        faults.configure(Some(FaultConfig::seeded(seed)));
        (0..n)
            .map(|_| faults.draw("GET", "/public/api/v1/records").unwrap().1)
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        assert_eq!(draws(7, 200), draws(7, 200));
        assert_ne!(draws(7, 200), draws(8, 200));
        let hit = draws(7, 1000).iter().filter(|f| f.is_some()).count();
        assert!((200..400).contains(&hit), "about 30%: {hit}");
        for kind in Fault::ALL {
            assert!(draws(7, 1000).contains(&Some(kind)), "{kind:?} is drawn");
        }
    }

    #[test]
    fn off_draws_nothing_and_logs_nothing() {
        let mut faults = Faults::default();
        assert!(faults.draw("GET", "/public/api/v1/records").is_none());
        assert!(faults.log.is_empty());
    }
}
