//! The pacing state of one key (cloud, account, region, action): the turns recently taken, the adaptive send rate
//! and the cloud's "not before" hint. Pure data and arithmetic, so the same state can live in memory (one process)
//! or in a file that every provider process of the user reads and writes under a lock ([`super::shared`]).
//!
//! Times are nanoseconds on one clock (a process's monotonic clock in memory, Unix time in a shared file).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A turn comes back this much later than one window after its request was answered: clocks of client and
/// cloud tick at slightly different rates, and clouds count in whole milliseconds.
pub(crate) const WINDOW_MARGIN: f64 = 1.02;

/// CUBIC's multiplicative decrease: at a throttled answer the send rate drops to this share of the rate it was
/// sending at (botocore `retries/throttling.py`, `CubicCalculator._BETA`).
const BETA: f64 = 0.7;
/// CUBIC's scale constant: how fast the rate grows back, in requests per second per cubed second (botocore
/// `CubicCalculator._SCALE_CONSTANT`).
const SCALE: f64 = 0.4;
/// The adaptive rate never exceeds this multiple of the rate actually measured (botocore `retries/adaptive.py`,
/// `ClientRateLimiter._MAX_RATE_ADJUST_SCALE`): a rate nobody sends at proves nothing about the quota.
const MAX_MEASURED_SCALE: f64 = 2.0;
/// The adaptive rate never drops below this, requests per second (botocore `retries/bucket.py`,
/// `TokenBucket._MIN_RATE`), so a throttled key still makes progress.
pub(crate) const MIN_RATE: f64 = 0.5;
/// A request unanswered this long is taken as answered then (the longest a request may take plus margin), so a
/// record whose owner vanished without a trace (a reused process id) cannot hold a turn forever.
const LONGEST_REQUEST: u64 = 180 * NANOS_PER_SEC;

/// The adaptive rate is dropped (back to the ceiling, whose turns may all leave at once) only when the curve is
/// at the ceiling and the last throttled answer is this long ago. Dropping it as soon as the curve reached the
/// ceiling sent the ceiling's whole burst into a quota other machines were still using: on the shared-account
/// bench (three machines on one account) most throttled answers came in such bursts.
const CALM: Duration = Duration::from_secs(20);

/// One burst's throttled answers take `W_max` down to at most this share of what its first answer left.
const BURST_FLOOR: f64 = 0.25;

/// While adapting, a second's turns leave in about this many groups (see [`Window::turns`]).
const ADAPTING_GROUPS: f64 = 4.0;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// One turn: taken at `start`, its request answered (or abandoned) at `end`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    pid: u32,
    start: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<u64>,
}

/// The adaptive rate, engaged at the first throttled answer and dropped once the CUBIC curve is back at the
/// ceiling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Cubic {
    /// The rate turns are given at now, requests per second.
    rate: f64,
    /// The rate at the last throttled answer (CUBIC's `W_max`).
    w_max: f64,
    /// Seconds after `last_fail` at which the curve is back at `w_max`.
    k: f64,
    /// When the last throttled answer that lowered the rate came in.
    last_fail: u64,
    /// `W_max` as that answer set it, before the burst's further throttled answers took requests off.
    #[serde(default)]
    event_w_max: f64,
}

/// What [`Window::try_take`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// A turn was taken.
    Taken,
    /// Nothing free before this time.
    WaitUntil(u64),
    /// Every turn is held by a request still waiting for its answer: ask again when one is answered.
    WaitForAnswer,
}

/// The pacing state of one key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Window {
    #[serde(default)]
    records: Vec<Record>,
    /// No turn before this time (the cloud's `Retry-After` or rate-limit headers).
    #[serde(default)]
    hold_until: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cubic: Option<Cubic>,
}

/// Turns for `rate` requests a second: `floor(rate)` turns (at least one), each reusable `max(1 s, turns / rate)`
/// (plus [`WINDOW_MARGIN`]) after its request was answered.
pub(crate) fn shape(rate: f64) -> (usize, Duration) {
    let per_window = rate.floor().clamp(1.0, 1_000_000.0);
    let seconds = (per_window / rate).max(1.0) * WINDOW_MARGIN;
    // A whole number in 1..=1e6, so the cast is exact.
    (per_window as usize, Duration::from_secs_f64(seconds))
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Window {
    /// The rate turns are given at under `ceiling` (the configured per-action limit).
    pub(crate) fn rate(&self, ceiling: f64) -> f64 {
        match &self.cubic {
            Some(c) => c.rate.clamp(MIN_RATE.min(ceiling), ceiling),
            None => ceiling,
        }
    }

    /// Whether a throttled answer has lowered the rate and it has not grown back yet.
    #[cfg(test)]
    pub(crate) fn adapting(&self) -> bool {
        self.cubic.is_some()
    }

    /// Forgets what no longer matters at `now`: turns reusable again and older than a second. A turn still
    /// waiting for its answer whose process is gone (`alive` says no) counts as answered now: a killed process
    /// never holds the budget.
    pub(crate) fn tidy(&mut self, now: u64, ceiling: f64, alive: impl Fn(u32) -> bool) {
        let (_, window) = self.turns(ceiling);
        let window = nanos(window);
        for r in &mut self.records {
            if r.end.is_none() {
                if now.saturating_sub(r.start) > LONGEST_REQUEST {
                    r.end = Some(r.start.saturating_add(LONGEST_REQUEST));
                } else if !alive(r.pid) {
                    r.end = Some(now);
                }
            }
        }
        self.records.retain(|r| {
            r.end.is_none_or(|end| end.saturating_add(window) > now)
                || r.start.saturating_add(NANOS_PER_SEC) > now
        });
    }

    /// How many turns there are and how long after its answer each comes back. At the ceiling, [`shape`]: the
    /// whole second's turns may leave together (requests of one Terraform round share their describe calls).
    /// While adapting, the same rate in small groups spread over the second: the cloud's quota is full by
    /// then (it throttled), and a burst of the whole second's requests into a full quota comes back throttled
    /// together, where a smooth stream overshoots by one request.
    fn turns(&self, ceiling: f64) -> (usize, Duration) {
        let rate = self.rate(ceiling);
        if self.cubic.is_none() {
            return shape(rate);
        }
        let group = (rate / ADAPTING_GROUPS).ceil().max(1.0);
        (
            group as usize,
            Duration::from_secs_f64(group / rate * WINDOW_MARGIN),
        )
    }

    /// Takes a turn as `id` of process `pid` if one is free at `now`.
    pub(crate) fn try_take(&mut self, now: u64, ceiling: f64, id: u64, pid: u32) -> Take {
        if now < self.hold_until {
            return Take::WaitUntil(self.hold_until);
        }
        let (turns, window) = self.turns(ceiling);
        let window = nanos(window);
        if self.cubic.is_some() {
            // Spread in groups, but never more than the rate's worth in any second (counted from the sends: the
            // throttled burst that engaged the adaptive rate still fills the cloud's second).
            let second = nanos(Duration::from_secs_f64(WINDOW_MARGIN));
            let mut recent: Vec<u64> = self
                .records
                .iter()
                .map(|r| r.start)
                .filter(|start| start.saturating_add(second) > now)
                .collect();
            let per_second = self.rate(ceiling).floor().max(1.0) as usize;
            if recent.len() >= per_second {
                recent.sort_unstable();
                return Take::WaitUntil(recent[recent.len() - per_second].saturating_add(second));
            }
        }
        let busy: Vec<Option<u64>> = self
            .records
            .iter()
            .filter(|r| r.end.is_none_or(|end| end.saturating_add(window) > now))
            .map(|r| r.end.map(|end| end.saturating_add(window)))
            .collect();
        if busy.len() < turns {
            self.records.push(Record {
                id,
                pid,
                start: now,
                end: None,
            });
            return Take::Taken;
        }
        match busy.into_iter().flatten().min() {
            Some(free_at) => Take::WaitUntil(free_at),
            None => Take::WaitForAnswer,
        }
    }

    /// Turn `id` was answered (or given up) at `now`.
    pub(crate) fn release(&mut self, id: u64, now: u64) {
        if let Some(r) = self.records.iter_mut().find(|r| r.id == id) {
            r.end = Some(r.end.unwrap_or(now).min(now));
        }
    }

    /// Turn `id` was never used (its taker stopped waiting before it heard it had the turn): as if never taken.
    pub(crate) fn forget(&mut self, id: u64) {
        self.records.retain(|r| r.id != id);
    }

    /// No turn before `until`.
    pub(crate) fn hold(&mut self, until: u64) {
        self.hold_until = self.hold_until.max(until);
    }

    /// Requests per second sent in the last second (every process sharing this state).
    fn measured(&self, now: u64) -> f64 {
        self.records
            .iter()
            .filter(|r| r.start.saturating_add(NANOS_PER_SEC) > now)
            .count() as f64
    }

    /// A request sent at `sent` was throttled, seen at `now`: CUBIC's multiplicative decrease. `W_max`, the rate
    /// that did not fit, is what was being sent (measured over the last second, across every process sharing this
    /// state) less this request; the rate drops to [`BETA`] of it and the curve restarts from there.
    ///
    /// Throttled answers to requests sent before the last decrease are the same congestion (sent before the slower
    /// rate applied): each only says that one more request did not fit, so it takes one off `W_max` instead of
    /// multiplying again (TCP lowers its window once per round trip; botocore, multiplying at every throttled
    /// answer, takes a burst of them to the floor). After a burst of ten of which seven were throttled, `W_max` is
    /// the three the cloud took, whatever order the answers came in, which is what several machines on one
    /// account need to find their share without a cascade of decreases (at most down to [`BURST_FLOOR`] of the
    /// first answer's `W_max`).
    pub(crate) fn throttled(&mut self, now: u64, sent: u64, ceiling: f64) {
        let floor = MIN_RATE.min(ceiling);
        if let Some(c) = self.cubic.as_mut().filter(|c| sent < c.last_fail) {
            // At most down to a quarter of what the burst's first answer left: a machine whose whole burst met a
            // quota others had filled would otherwise restart from the floor and take seconds to grow back.
            c.w_max = (c.w_max - 1.0).max(c.event_w_max * BURST_FLOOR).max(floor);
            c.k = (c.w_max * (1.0 - BETA) / SCALE).cbrt();
            c.rate = c.rate.min(c.w_max * BETA).clamp(floor, ceiling);
            return;
        }
        let measured = self.measured(now).max(MIN_RATE);
        let sending = match &self.cubic {
            Some(_) => measured.min(self.rate(ceiling)),
            None => measured,
        };
        let hit = (sending.min(ceiling) - 1.0).max(floor);
        // CUBIC's fast convergence (RFC 8312 section 4.6): throttled below the previous plateau, another client
        // has taken part of the quota, so aim the curve's plateau lower still and leave it room; clients sharing a
        // quota then converge to fair shares sooner.
        let w_max = match &self.cubic {
            Some(c) if hit < c.w_max => (hit * (1.0 + BETA) / 2.0).max(floor),
            _ => hit,
        };
        let k = (w_max * (1.0 - BETA) / SCALE).cbrt();
        let rate = (hit * BETA)
            .min(MAX_MEASURED_SCALE * measured)
            .clamp(floor, ceiling);
        self.cubic = Some(Cubic {
            rate,
            w_max,
            k,
            last_fail: now,
            event_w_max: w_max,
        });
    }

    /// An answer that was not throttling came in at `now`: the rate follows CUBIC's curve back up (growing to at
    /// most twice the measured rate, at most the ceiling); once the curve is at `ceiling` and no throttled answer
    /// came for [`CALM`], the cloud has stopped throttling and the adaptive rate is dropped.
    pub(crate) fn answered(&mut self, now: u64, ceiling: f64) {
        let measured = self.measured(now).max(MIN_RATE);
        let Some(c) = &mut self.cubic else {
            return;
        };
        let t = now.saturating_sub(c.last_fail) as f64 / NANOS_PER_SEC as f64;
        let curve = SCALE * (t - c.k).powi(3) + c.w_max;
        if curve >= ceiling && t >= CALM.as_secs_f64() {
            self.cubic = None;
            return;
        }
        // The cap stops growth beyond twice what is being sent; it does not lower the rate (a second of little
        // demand, e.g. right after the throttled burst's second, says nothing about the quota).
        c.rate = curve
            .min((MAX_MEASURED_SCALE * measured).max(c.rate))
            .clamp(MIN_RATE.min(ceiling), ceiling);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SEC;
    const MS: u64 = 1_000_000;

    fn alive(_: u32) -> bool {
        true
    }

    /// Takes turns at `now` until none is free; returns how many were taken and what the last try said.
    fn fill(w: &mut Window, now: u64, ceiling: f64, next_id: &mut u64) -> (usize, Take) {
        let mut n = 0;
        loop {
            *next_id += 1;
            match w.try_take(now, ceiling, *next_id, 1) {
                Take::Taken => n += 1,
                other => return (n, other),
            }
        }
    }

    #[test]
    fn turns_come_back_a_window_after_their_answer() {
        let mut w = Window::default();
        let mut id = 0;
        let (n, next) = fill(&mut w, 0, 10.0, &mut id);
        assert_eq!((n, next), (10, Take::WaitForAnswer));
        for i in 1..=10 {
            w.release(i, 30 * MS);
        }
        let window = nanos(shape(10.0).1);
        assert_eq!(
            w.try_take(40 * MS, 10.0, 99, 1),
            Take::WaitUntil(30 * MS + window)
        );
        assert_eq!(w.try_take(30 * MS + window, 10.0, 99, 1), Take::Taken);
    }

    #[test]
    fn a_dead_process_holds_no_turn() {
        let mut w = Window::default();
        assert_eq!(w.try_take(0, 1.0, 1, 4242), Take::Taken);
        assert_eq!(w.try_take(MS, 1.0, 2, 1), Take::WaitForAnswer);
        // Its process is gone: the turn counts as answered when that is noticed, and comes back a window later.
        w.tidy(5 * MS, 1.0, |pid| pid != 4242);
        let window = nanos(shape(1.0).1);
        assert_eq!(
            w.try_take(6 * MS, 1.0, 2, 1),
            Take::WaitUntil(5 * MS + window)
        );
        // Long unanswered turns of a live process id (reused) are given up too.
        let mut w = Window::default();
        assert_eq!(w.try_take(0, 1.0, 1, 7), Take::Taken);
        w.tidy(LONGEST_REQUEST + S, 1.0, alive);
        assert_eq!(w.try_take(LONGEST_REQUEST + 2 * S, 1.0, 2, 1), Take::Taken);
    }

    #[test]
    fn a_hold_delays_every_turn() {
        let mut w = Window::default();
        w.hold(2 * S);
        assert_eq!(w.try_take(S, 10.0, 1, 1), Take::WaitUntil(2 * S));
        assert_eq!(w.try_take(2 * S, 10.0, 1, 1), Take::Taken);
    }

    #[test]
    fn a_throttle_drops_the_rate_once_per_burst_and_cubic_growth_brings_it_back() {
        let mut w = Window::default();
        let mut id = 0;
        let (n, _) = fill(&mut w, 0, 10.0, &mut id);
        assert_eq!(n, 10);
        for i in 1..=10 {
            w.release(i, 40 * MS);
        }
        // Seven of the ten come back throttled: the first lowers the rate to 0.7 x 9 (nine sent besides it), the
        // others were sent before that and each takes one more off: the three the cloud took, 0.7 x 3.
        w.throttled(50 * MS, 0, 10.0);
        assert!((w.rate(10.0) - 6.3).abs() < 1e-9, "{}", w.rate(10.0));
        for i in 1..7 {
            w.throttled(50 * MS + i, 0, 10.0);
        }
        assert!((w.rate(10.0) - 2.1).abs() < 1e-9, "{}", w.rate(10.0));
        assert!(w.adapting());
        // A request sent after the drop and throttled again lowers it again, multiplicatively.
        w.throttled(500 * MS, 100 * MS, 10.0);
        assert!(w.rate(10.0) < 2.1, "{}", w.rate(10.0));
        let low = w.rate(10.0);
        // Answers without throttling, with more requests waiting than turns (every free turn taken at once): the
        // rate follows the cubic curve back to the ceiling, then stops adapting.
        let mut last = low;
        let mut t = 600 * MS;
        while w.adapting() {
            let first = id + 1;
            let (n, _) = fill(&mut w, t, 10.0, &mut id);
            for i in first..first + n as u64 {
                w.release(i, t + 30 * MS);
                w.answered(t + 30 * MS, 10.0);
            }
            assert!(
                w.rate(10.0) >= last - 1e-9,
                "the rate fell without a throttle at {t}: {last} -> {}",
                w.rate(10.0)
            );
            last = w.rate(10.0);
            t += 100 * MS;
            assert!(t < 30 * S, "never recovered: {w:?}");
        }
        assert_eq!(w.rate(10.0), 10.0);
    }

    #[test]
    fn the_rate_stays_within_its_floor_the_ceiling_and_twice_the_measured_rate() {
        let mut w = Window::default();
        for i in 0..40 {
            w.throttled(i * S, i * S, 10.0);
        }
        assert_eq!(w.rate(10.0), MIN_RATE);
        // One request a second measured: the curve may be far higher, the rate is at most two a second.
        let mut w = Window::default();
        assert_eq!(w.try_take(0, 10.0, 1, 1), Take::Taken);
        w.throttled(10 * MS, 0, 10.0);
        assert!(w.rate(10.0) <= 2.0 * 1.0 + 1e-9);
        let _ = w.try_take(1500 * MS, 10.0, 2, 1);
        w.answered(1900 * MS, 10.0);
        assert!(w.rate(10.0) <= 2.0, "{}", w.rate(10.0));
        assert!(w.rate(3.0) <= 3.0);
    }

    #[test]
    fn throttled_below_the_last_plateau_the_curve_aims_lower_still() {
        let mut w = Window::default();
        let mut id = 0;
        let (n, _) = fill(&mut w, 0, 10.0, &mut id);
        assert_eq!(n, 10);
        w.throttled(10 * MS, 0, 10.0);
        let first = w.cubic.clone().unwrap();
        assert_eq!(first.w_max, 9.0);
        // Throttled again, sent after the first decrease, at a lower rate: RFC 8312's fast convergence.
        w.throttled(3 * S, 2 * S, 10.0);
        let second = w.cubic.clone().unwrap();
        let hit = (w.measured(3 * S).max(MIN_RATE).min(first.rate) - 1.0).max(MIN_RATE);
        assert!(hit < first.w_max);
        let aimed = (hit * (1.0 + BETA) / 2.0).max(MIN_RATE);
        assert!((second.w_max - aimed).abs() < 1e-9, "{second:?}");
        assert!(
            (second.rate - (hit * BETA).max(MIN_RATE)).abs() < 1e-9,
            "{second:?}"
        );
        // Sending at 2.5 a second when throttled (five in the last two half seconds): the plateau is 0.85 x 1.5.
        let mut w = Window::default();
        for i in 0..10u64 {
            let _ = w.try_take(i * 400 * MS, 10.0, 100 + i, 1);
            w.release(100 + i, i * 400 * MS + 30 * MS);
        }
        w.throttled(4 * S, 3 * S, 10.0);
        let before = w.cubic.clone().unwrap().w_max;
        for i in 0..6u64 {
            let _ = w.try_take(5 * S + i * 400 * MS, 10.0, 200 + i, 1);
        }
        w.throttled(7 * S, 6 * S, 10.0);
        let c = w.cubic.clone().unwrap();
        assert!(c.w_max < before, "{c:?}");
    }

    #[test]
    fn old_records_are_forgotten() {
        let mut w = Window::default();
        assert_eq!(w.try_take(0, 10.0, 1, 1), Take::Taken);
        w.release(1, 10 * MS);
        w.tidy(5 * S, 10.0, alive);
        assert!(w.records.is_empty());
        let text = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Window>(&text).unwrap(), w);
    }
}
