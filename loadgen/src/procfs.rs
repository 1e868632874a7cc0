//! Reading a process's CPU time and resident memory from `/proc`, so the broker's cost is
//! measured from outside it, the same way for every broker.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

/// One process observed through `/proc/PID`.
#[derive(Debug, Clone)]
pub(crate) struct Process {
    /// The directory `/proc/PID` (or `/proc/self`).
    dir: PathBuf,
    /// Kernel clock ticks per second, the unit of `utime` and `stime`.
    ticks_per_second: u64,
}

impl Process {
    /// The process `pid`, or this process when `None`.
    pub(crate) fn new(pid: Option<u32>) -> Self {
        let dir = match pid {
            Some(pid) => PathBuf::from(format!("/proc/{pid}")),
            None => PathBuf::from("/proc/self"),
        };
        Self {
            dir,
            ticks_per_second: ticks_per_second(),
        }
    }

    /// User plus system CPU time consumed so far, all threads together.
    pub(crate) fn cpu(&self) -> Result<Duration> {
        let path = self.dir.join("stat");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        let ticks = cpu_ticks(&text)
            .with_context(|| format!("{} has no utime/stime fields", path.display()))?;
        Ok(Duration::from_nanos(
            ticks.saturating_mul(1_000_000_000) / self.ticks_per_second,
        ))
    }

    /// Resident set size in KiB.
    pub(crate) fn rss_kib(&self) -> Result<u64> {
        let path = self.dir.join("status");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        vm_rss_kib(&text).with_context(|| format!("{} has no VmRSS line", path.display()))
    }
}

/// `utime + stime` in clock ticks from the text of `/proc/PID/stat`.
///
/// The second field (the command name) is in parentheses and may itself contain spaces and
/// parentheses, so the fields are counted from the last `)`: after it come field 3 (state)
/// onwards, which puts utime (field 14) and stime (field 15) at offsets 11 and 12.
pub(crate) fn cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The `VmRSS:` figure in KiB from the text of `/proc/PID/status`.
pub(crate) fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") | None => Some(value),
        Some(_) => None,
    }
}

/// `getconf CLK_TCK`; 100 (USER_HZ on every mainstream Linux architecture) if that fails.
fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&ticks: &u64| ticks > 0)
        .unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        // A command name with a space and a parenthesis, as `prctl` allows.
        let stat = "4242 (my (bro ker) S 1 4242 4242 0 -1 4194560 1200 0 0 0 \
                    731 269 0 0 20 0 3 0 5000 100000 500 18446744073709551615";
        assert_eq!(cpu_ticks(stat), Some(731 + 269));
    }

    #[test]
    fn truncated_stat_is_none() {
        assert_eq!(cpu_ticks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 7"), None);
        assert_eq!(cpu_ticks("no parenthesis"), None);
    }

    #[test]
    fn rss_line_is_read_in_kib() {
        let status = "Name:\tcourtier\nVmPeak:\t  9000 kB\nVmRSS:\t    5120 kB\nThreads:\t3\n";
        assert_eq!(vm_rss_kib(status), Some(5120));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        assert_eq!(vm_rss_kib("VmRSS:\t 12 MB\n"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let me = Process::new(None);
        assert!(me.rss_kib().unwrap() > 0);
        me.cpu().unwrap();
    }
}
