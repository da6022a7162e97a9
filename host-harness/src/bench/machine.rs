//! What a figure was measured on, so a dated table says which machine and how busy it was:
//! figures from another machine or day are not comparable, and the reader must be able to see
//! that.

/// The machine and the moment a run measured on.
pub struct Machine {
    /// `2026-12-07 07:41 UTC`.
    pub when: String,
    /// `2 vCPUs (AMD EPYC 7763 64-Core Processor), 24.0 GiB RAM, Linux 6.18.0`.
    pub what: String,
    /// The 1-minute load average when the run started (Linux), `None` elsewhere.
    pub load: Option<f64>,
    /// `optimised` (the `perf` or `release` profile) or `unoptimised` (dev).
    pub build: &'static str,
}

impl Machine {
    pub fn now() -> Self {
        let when = jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string();
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let model =
            proc_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".into());
        let memory = proc_field("/proc/meminfo", "MemTotal")
            .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or("unknown RAM".to_string(), |kb| {
                format!("{:.1} GiB RAM", kb / (1 << 20) as f64)
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
            |_| std::env::consts::OS.to_string(),
            |r| format!("Linux {}", r.trim()),
        );
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|l| l.split_whitespace().next()?.parse().ok());
        Machine {
            when,
            what: format!(
                "{cpus} vCPUs ({model}), {memory}, {kernel}, {}",
                std::env::consts::ARCH
            ),
            load,
            build: if cfg!(debug_assertions) {
                "unoptimised"
            } else {
                "optimised"
            },
        }
    }

    /// One sentence for the head of a figures table.
    pub fn sentence(&self) -> String {
        let load = self.load.map_or(String::new(), |l| {
            format!("; load average {l:.2} when the run started")
        });
        format!(
            "Measured {} on {}, an {} build{load}.",
            self.when, self.what, self.build
        )
    }
}

/// `name : value` from a `/proc` file (first occurrence).
fn proc_field(path: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentence_names_date_machine_build_and_load() {
        let m = Machine {
            when: "2026-12-07 07:41 UTC".into(),
            what: "2 vCPUs (EPYC), 24.0 GiB RAM, Linux 6.18.0, x86_64".into(),
            load: Some(1.5),
            build: "optimised",
        };
        assert_eq!(
            m.sentence(),
            "Measured 2026-12-07 07:41 UTC on 2 vCPUs (EPYC), 24.0 GiB RAM, Linux 6.18.0, x86_64, \
             an optimised build; load average 1.50 when the run started."
        );
        let now = Machine::now();
        assert!(
            now.when.ends_with(" UTC") && now.when.len() == 20,
            "{}",
            now.when
        );
    }
}
