//! The memory monitor: how much memory an indexing run may use, and whether
//! it is close to that. Above [`PRESSURE_FRACTION`] of the limit the
//! pipeline halves its embedding batches and parse workers pause.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Share of the limit above which the run is under pressure.
pub const PRESSURE_FRACTION: f64 = 0.9;
/// RSS samples are reused for this long (a sample costs a /proc read).
const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// Watches this process's resident memory against a limit.
#[derive(Debug)]
pub struct MemoryMonitor {
    limit_bytes: u64,
    pid: Option<sysinfo::Pid>,
    sampler: Mutex<Sampler>,
}

/// The last RSS sample and the means to take the next.
#[derive(Debug)]
struct Sampler {
    system: Option<sysinfo::System>,
    sampled_at: Option<Instant>,
    rss: u64,
    peak: u64,
}

impl MemoryMonitor {
    /// The most memory this process can have: physical memory, or the
    /// cgroup's limit when smaller (`u64::MAX` when neither can be read).
    /// The default of [`crate::IndexOptions::max_memory_bytes`].
    pub fn machine_limit_bytes() -> u64 {
        let Ok(mut system) = sysinfo::System::new() else {
            return u64::MAX;
        };
        system.refresh_memory();
        let total = system.total_memory();
        match system.cgroup_limits() {
            Some(limits) if limits.total_memory > 0 => total.min(limits.total_memory),
            _ => total,
        }
    }

    /// A monitor with an explicit limit in bytes.
    pub fn with_limit(limit_bytes: u64) -> Self {
        Self {
            limit_bytes,
            pid: sysinfo::get_current_pid().ok(),
            sampler: Mutex::new(Sampler {
                system: sysinfo::System::new().ok(),
                sampled_at: None,
                rss: 0,
                peak: 0,
            }),
        }
    }

    /// The limit in bytes.
    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    /// This process's resident memory now (sampled at most every 200 ms).
    pub fn rss_bytes(&self) -> u64 {
        let (Some(pid), Ok(mut sampler)) = (self.pid, self.sampler.lock()) else {
            return 0;
        };
        let sampler = &mut *sampler;
        let Some(system) = sampler.system.as_mut() else {
            return 0;
        };
        if sampler.sampled_at.is_none_or(|at| at.elapsed() >= SAMPLE_EVERY) {
            system.refresh_processes_specifics(
                sysinfo::ProcessesToUpdate::Some(&[pid]),
                false,
                sysinfo::ProcessRefreshKind::nothing().with_memory(),
            );
            sampler.rss = system.process(pid).map_or(0, |p| p.memory());
            sampler.peak = sampler.peak.max(sampler.rss);
            sampler.sampled_at = Some(Instant::now());
        }
        sampler.rss
    }

    /// This process's resident memory, sampled now.
    fn rss_now(&self) -> u64 {
        if let Ok(mut sampler) = self.sampler.lock() {
            sampler.sampled_at = None;
        }
        self.rss_bytes()
    }

    /// The highest resident memory sampled so far.
    pub fn peak_rss_bytes(&self) -> u64 {
        self.rss_bytes();
        self.sampler.lock().map_or(0, |s| s.peak)
    }

    /// Whether resident memory is above [`PRESSURE_FRACTION`] of the limit.
    pub fn under_pressure(&self) -> bool {
        self.rss_bytes() as f64 > self.limit_bytes as f64 * PRESSURE_FRACTION
    }
}

/// Hands back to the OS the memory the allocator keeps after it is freed:
/// glibc holds freed memory in its heaps, and a long run's parse, embed and
/// write buffers leave hundreds of megabytes there, under the peaks of the
/// index builds that end a run. Returns the bytes of RSS this gave back.
pub fn release_freed_memory(monitor: &MemoryMonitor) -> u64 {
    let before = monitor.rss_now();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    before.saturating_sub(monitor.rss_now())
}
