//! How many parts an upload keeps in flight: start where a nearby server is served well (or at the ceiling when the
//! upload's first requests show a far one), and add parts while the measured throughput grows.
//!
//! Why adapt: on a long link each part spends a round trip and more with nothing to send (the response, the new
//! request, and per connection at most a TCP window per round trip), so four parts in flight leave the link idle
//! between rounds of parts (10-16% of the time at 100 ms and 200 Mbit/s, measured) where they saturated a local
//! server. The bandwidth-delay product is not known before the first parts
//! are sent, and what is enough depends on the connections' windows too, so the number is found by measuring: after
//! each step the throughput at the new level is compared with the level before it.
//!
//! The measure: Little's law. With `n` parts in flight each taking `t` seconds for `b` bytes, the upload moves
//! `n * b / t` bytes a second. Each level is judged on the parts that started at it (at least `n` of them, so every
//! slot has turned over once), which needs no clock of its own and no waiting for a quiet interval.
//!
//! The rule: steps of half the level (at least one part; 4 -> 6 -> 9 ...), each added part bringing at least a
//! quarter of the throughput an average part in flight brings (from `n` to `m` parts: `rate(m) >= rate(n) * (1 +
//! 0.25 * (m - n) / n)`); where a step does not (the server, the client or the link's cap is the limit), the level
//! goes back to where it was and stays. Never above the ceiling, which the caller derives from the memory budget
//! for part buffers. The first parts are not measured: their times include opening connections.
//!
//! Why a quarter, from `scripts/bench --upload --long-link` (100 ms, 200 Mbit/s, 8 MiB parts, moto), with one-part
//! steps: the rates measured this way were 20.8 MB/s at 4 parts, 23.2 at 5 and 24.2 at 6 on a 25 MB/s link, and in
//! five runs the step from 4 to 5 measured +9.7% to +12.4%: half an average part's share (+12.5%) rejected it every
//! time, a quarter (+6.25%) keeps it. On the local server the step from 4 to 6 passes in about half the runs (moto
//! gains a little from more requests at once, and four to six parts average out little noise): that costs memory
//! within the budget (55 MiB peak RSS instead of 39) and no time.

/// The upload's first requests (the object check and the look for an unfinished upload, made together before any
/// part) taking this long mean a far server: there the ramp reached its ceiling in every measured run (4 -> 6 at
/// 100 ms), and the parts it spent measuring at the lower level only delayed that (`--long-link`, 512 MiB, three
/// rounds each: 25.52 s median starting at 4, 25.36 s at 6). A nearby server answers both in a few milliseconds,
/// where the ramp starts low and keeps the memory when more parts would not pay.
pub(super) const FAR_ROUND_TRIP: std::time::Duration = std::time::Duration::from_millis(50);

/// Fraction of an average part's throughput one more part in flight must add for the step to be kept.
const MIN_STEP_GAIN: f64 = 0.25;

/// Parts measured at a level at least (and at least as many as the level).
const MIN_SAMPLES: usize = 4;

/// The adaptation of parts in flight for one upload (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct Ramp {
    level: usize,
    ceiling: usize,
    /// Parts still to finish before measuring starts (the first round opens connections).
    warmup: usize,
    /// The level before the last step and its throughput (bytes per second).
    previous: Option<(usize, f64)>,
    /// Bytes and seconds of the parts that started at `level`.
    bytes: f64,
    secs: f64,
    samples: usize,
    /// The last level measured and its throughput (bytes per second), for the log.
    measured: Option<(usize, f64)>,
    /// No more changes.
    settled: bool,
}

impl Ramp {
    /// Starts at `start` parts in flight and grows to `ceiling` at most (both at least one).
    pub(super) fn new(start: usize, ceiling: usize) -> Self {
        let start = start.max(1);
        let ceiling = ceiling.max(start);
        Self {
            level: start,
            ceiling,
            warmup: start,
            previous: None,
            bytes: 0.0,
            secs: 0.0,
            samples: 0,
            measured: None,
            settled: start >= ceiling,
        }
    }

    /// Starts at `start`, or at `ceiling` when the upload's first requests took [`FAR_ROUND_TRIP`] or longer.
    pub(super) fn after_first_requests(
        start: usize,
        ceiling: usize,
        took: std::time::Duration,
    ) -> Self {
        if took >= FAR_ROUND_TRIP {
            Self::new(ceiling.max(start), ceiling)
        } else {
            Self::new(start, ceiling)
        }
    }

    /// Parts allowed in flight now.
    pub(super) fn level(&self) -> usize {
        self.level
    }

    /// The most parts in flight this upload may reach.
    pub(super) fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// The last level measured and its throughput in bytes per second.
    pub(super) fn measured(&self) -> Option<(usize, f64)> {
        self.measured
    }

    /// A part that started when `started_at` parts were allowed in flight took `secs` for `bytes`. Returns the new
    /// level when this changes it.
    pub(super) fn part_finished(
        &mut self,
        started_at: usize,
        bytes: u64,
        secs: f64,
    ) -> Option<usize> {
        if self.warmup > 0 {
            self.warmup -= 1;
            return None;
        }
        if self.settled || started_at != self.level || secs <= 0.0 {
            return None;
        }
        self.bytes += bytes as f64;
        self.secs += secs;
        self.samples += 1;
        if self.samples < self.level.max(MIN_SAMPLES) {
            return None;
        }
        let rate = self.level as f64 * self.bytes / self.secs;
        self.measured = Some((self.level, rate));
        self.bytes = 0.0;
        self.secs = 0.0;
        self.samples = 0;
        if let Some((smaller, before)) = self.previous {
            let added = (self.level - smaller) as f64;
            if rate < before * (1.0 + MIN_STEP_GAIN * added / smaller as f64) {
                // The last step did not pay: back to the level before it, for the rest of the upload.
                self.settled = true;
                self.level = smaller;
                return Some(self.level);
            }
        }
        self.previous = Some((self.level, rate));
        if self.level >= self.ceiling {
            self.settled = true;
            return None;
        }
        // Half the level at a time (at least one): few steps, so the level that pays is reached early in the
        // upload, and none much larger than the level it is judged against.
        self.level = (self.level + (self.level / 2).max(1)).min(self.ceiling);
        Some(self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PART: u64 = 8 << 20;

    /// Feeds `ramp` parts that each take `secs_at(level)`, as `in_flight` parts of a steady upload would, until it
    /// settles; returns the final level and the number of parts it took.
    fn run(mut ramp: Ramp, secs_at: impl Fn(usize) -> f64) -> (usize, usize) {
        let mut parts = 0;
        while !ramp.settled && parts < 10_000 {
            let level = ramp.level();
            ramp.part_finished(level, PART, secs_at(level));
            parts += 1;
        }
        assert!(ramp.settled, "never settled");
        (ramp.level(), parts)
    }

    #[test]
    fn a_saturated_server_keeps_the_start() {
        // A local server whose throughput does not grow with more parts: each part takes longer in proportion.
        let (level, parts) = run(Ramp::new(4, 8), |n| n as f64 * 0.08);
        assert_eq!(level, 4);
        // Warm-up (4), the level measured (4), one step tried (6).
        assert_eq!(parts, 14);
    }

    #[test]
    fn a_long_link_grows_to_the_ceiling_while_each_part_pays() {
        // Latency-bound: a part takes the same time whatever the level, so throughput grows in proportion.
        let (level, parts) = run(Ramp::new(4, 8), |_| 1.2);
        assert_eq!(level, 8);
        // 4 -> 6 -> 8: warm-up (4), 4 at 4, 6 at 6, 8 at 8.
        assert_eq!(parts, 22);
        // The default budget's ceiling (six parts of 8 MiB) is one step away.
        let (level, parts) = run(Ramp::new(4, 6), |_| 1.2);
        assert_eq!((level, parts), (6, 14));
    }

    #[test]
    fn growth_stops_at_the_links_cap() {
        // 25 MB/s link, 0.25 s of latency per part, 10 MB/s per connection (its window over the round trip):
        // 7.7, 15.4, 20.0 and 21.1 MB/s at 1 to 4 parts. The step to 4 adds 5.4%, less than a quarter of an
        // average part's 33%: three stay.
        let secs = |n: usize| {
            let send = PART as f64 / (25e6 / n as f64).min(10e6);
            send + 0.25
        };
        let (level, _) = run(Ramp::new(1, 8), secs);
        let rate = |n: usize| n as f64 * PART as f64 / secs(n);
        assert_eq!(level, 3);
        assert!(rate(3) >= 0.8 * 25e6, "{} B/s", rate(3));
    }

    #[test]
    fn noise_below_the_step_gain_does_not_grow() {
        // +5% at six parts in flight is within a saturated server's noise: not worth two more buffers.
        let (level, _) = run(Ramp::new(4, 8), |n| {
            if n == 6 {
                1.2 * 6.0 / 4.0 / 1.05
            } else {
                1.2 * n as f64 / 4.0
            }
        });
        assert_eq!(level, 4);
    }

    #[test]
    fn parts_from_another_level_and_the_first_round_are_not_measured() {
        let mut ramp = Ramp::new(2, 4);
        // Warm-up: two parts, whatever they took.
        assert_eq!(ramp.part_finished(2, PART, 100.0), None);
        assert_eq!(ramp.part_finished(2, PART, 100.0), None);
        // A part that started at another level is ignored.
        for _ in 0..10 {
            assert_eq!(ramp.part_finished(1, PART, 0.001), None);
        }
        for _ in 0..3 {
            assert_eq!(ramp.part_finished(2, PART, 1.0), None);
        }
        assert_eq!(ramp.part_finished(2, PART, 1.0), Some(3));
        assert_eq!(ramp.level(), 3);
        assert_eq!(ramp.measured(), Some((2, 2.0 * PART as f64)));
    }

    #[test]
    fn start_at_the_ceiling_never_changes() {
        let mut ramp = Ramp::new(4, 4);
        for _ in 0..100 {
            assert_eq!(ramp.part_finished(4, PART, 1.0), None);
        }
        assert_eq!((ramp.level(), ramp.ceiling()), (4, 4));
        // A ceiling below the start is raised to it: the start is what the caller asked for.
        assert_eq!(Ramp::new(4, 2).ceiling(), 4);
    }

    #[test]
    fn a_far_server_starts_at_the_ceiling_and_a_near_one_low() {
        use std::time::Duration;
        let far = Ramp::after_first_requests(4, 6, Duration::from_millis(200));
        assert_eq!((far.level(), far.ceiling()), (6, 6));
        let near = Ramp::after_first_requests(4, 6, Duration::from_millis(3));
        assert_eq!((near.level(), near.ceiling()), (4, 6));
        // Never above what the budget allows, never below what was asked for.
        let tight = Ramp::after_first_requests(2, 1, Duration::from_millis(200));
        assert_eq!(tight.level(), 2);
    }
}
