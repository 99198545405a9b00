//! CPU time and memory of a process, read from `/proc` (Linux): the server under test when its pid
//! is given, and the generator itself so that a saturated generator shows in the report.

use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub cpu: Duration,
    /// The part of `cpu` spent in the kernel (system calls: for a server, mostly sending).
    pub system: Duration,
    pub rss_bytes: u64,
}

/// Reads a process's CPU time (user + system) and resident memory.
pub fn sample(pid: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(Sample {
        cpu: Duration::from_secs_f64((utime + stime) / TICKS_PER_SEC),
        system: Duration::from_secs_f64(stime / TICKS_PER_SEC),
        rss_bytes: rss_kib * 1024,
    })
}

/// The sum over several processes (a cluster's nodes); `None` if any of them cannot be read.
pub fn sample_all(pids: &[u32]) -> Option<Sample> {
    let mut total = Sample {
        cpu: Duration::ZERO,
        system: Duration::ZERO,
        rss_bytes: 0,
    };
    if pids.is_empty() {
        return None;
    }
    for &pid in pids {
        let s = sample(pid)?;
        total.cpu += s.cpu;
        total.system += s.system;
        total.rss_bytes += s.rss_bytes;
    }
    Some(total)
}

/// Samples processes periodically (summed), keeping their peak memory.
pub struct Watch {
    pids: Vec<u32>,
    first: Sample,
    last: Sample,
    peak_rss: u64,
    started: Instant,
}

impl Watch {
    pub fn start(pids: Vec<u32>) -> Option<Self> {
        let s = sample_all(&pids)?;
        Some(Watch {
            pids,
            first: s,
            last: s,
            peak_rss: s.rss_bytes,
            started: Instant::now(),
        })
    }

    pub fn tick(&mut self) {
        if let Some(s) = sample_all(&self.pids) {
            self.peak_rss = self.peak_rss.max(s.rss_bytes);
            self.last = s;
        }
    }

    pub fn finish(mut self) -> ProcessUsage {
        self.tick();
        let wall = self.started.elapsed();
        let cpu = self.last.cpu.saturating_sub(self.first.cpu);
        let system = self.last.system.saturating_sub(self.first.system);
        ProcessUsage {
            cpu_seconds: cpu.as_secs_f64(),
            system_seconds: Some(system.as_secs_f64()),
            cpu_percent: 100.0 * cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9),
            rss_start_mib: mib(self.first.rss_bytes),
            rss_end_mib: mib(self.last.rss_bytes),
            rss_peak_mib: mib(self.peak_rss),
        }
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Samples a [`Watch`] on its own task, so that short peaks (a crowd joining) are seen even while
/// the scenario itself is busy.
pub struct Sampler {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<Option<Watch>>,
}

impl Sampler {
    pub fn start(watch: Option<Watch>, every: Duration) -> Self {
        let stop = tokio_util::sync::CancellationToken::new();
        let cancelled = stop.clone();
        let task = tokio::spawn(async move {
            let mut watch = watch;
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = cancelled.cancelled() => return watch,
                    _ = tick.tick() => if let Some(w) = watch.as_mut() { w.tick() },
                }
            }
        });
        Sampler { stop, task }
    }

    pub async fn finish(self) -> Option<ProcessUsage> {
        self.stop.cancel();
        self.task.await.ok().flatten().map(Watch::finish)
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProcessUsage {
    pub cpu_seconds: f64,
    /// Of `cpu_seconds`, the time in the kernel (absent from reports written before it was kept).
    #[serde(default)]
    pub system_seconds: Option<f64>,
    /// Of one core: 200 means both cores of a 2-core machine were busy.
    pub cpu_percent: f64,
    pub rss_start_mib: f64,
    pub rss_end_mib: f64,
    pub rss_peak_mib: f64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_own_process() {
        let s = super::sample(std::process::id()).unwrap();
        assert!(s.rss_bytes > 0);
    }
}
