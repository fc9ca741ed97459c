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

/// CUBIC's multiplicative decrease, applied to the goodput: at a throttled answer the send rate drops to this share
/// of the rate the cloud took from this client lately (see [`Window::throttled`]). botocore takes 0.7 of the rate
/// sent (`retries/throttling.py`, `CubicCalculator._BETA`); on a quota shared with other machines the goodput is
/// already this client's share, and 0.7 of it left most of the freed quota unused while the rates grew back into
/// each other (the shared-account bench: half the quota idle for seconds, then a throttled answer a second).
const BETA: f64 = 0.9;
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

/// While adapting, a second's turns leave in about this many groups (see [`Window::turns`]): below ten a second,
/// one request at a time, so a rate that grew past what fits costs one throttled answer, not a group of them.
const ADAPTING_GROUPS: f64 = 10.0;

/// The goodput a throttled answer sets the rate from is counted over this long (and at least the last second's):
/// right after a decrease a client sends less for a moment, and one second of it would take the rate down again
/// at the next throttled answer (a ratchet to the floor).
const GOODPUT_SPAN: u64 = 2 * NANOS_PER_SEC;
// Records are kept at least a second anyway (the quota's window); the goodput's span is never shorter.
const _: () = assert!(GOODPUT_SPAN >= NANOS_PER_SEC);

/// After a throttled answer the curve stays at the plateau (`W_max`, what fit) for this long times the plateau's
/// share of the ceiling before it grows past it, doubled for each throttled answer in a row that found no more
/// room (up to [`MAX_HOLD_DOUBLINGS`] times, at most [`MAX_HOLD`]). Each client on a shared quota that grows past
/// its share costs a throttled answer; botocore's curve, past the plateau within a second or two, made three
/// machines on one account throttle about once a second. A client with a small share holds shortly and probes
/// sooner, so the shares even out; a client alone probes again within seconds.
const PLATEAU_HOLD: f64 = 15.0;
/// See [`PLATEAU_HOLD`].
const MAX_HOLD_DOUBLINGS: u32 = 2;
/// The longest hold at the plateau, seconds: the last run left on an account probes again within this, so it
/// does not finish at the share it had while others were there (unbounded, the doublings held a lone machine at a
/// third of the quota for ten seconds at the end of the shared-account bench).
const MAX_HOLD: f64 = 8.0;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// One turn: taken at `start`, its request answered (or abandoned) at `end`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    pid: u32,
    start: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end: Option<u64>,
    /// Answered with the cloud's throttling error: sent, but not taken by the cloud (nor counted in its quota).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    throttled: bool,
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
    /// Decreases in a row whose goodput was no more than the plateau before (growing past it found no room):
    /// each doubles the hold at the plateau ([`PLATEAU_HOLD`]).
    #[serde(default)]
    fails: u32,
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

    /// Forgets what no longer matters at `now`: turns reusable again and older than a second (two while adapting,
    /// for the goodput: [`GOODPUT_SPAN`]). A turn still waiting for its answer whose process is gone (`alive` says
    /// no) counts as answered now: a killed process never holds the budget.
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
        // The goodput's span matters only while adapting (the first throttled answer counts the last second): at
        // the ceiling the shared files stay as small as they were.
        let keep = match self.cubic {
            Some(_) => GOODPUT_SPAN,
            None => NANOS_PER_SEC,
        };
        self.records.retain(|r| {
            r.end.is_none_or(|end| end.saturating_add(window) > now)
                || r.start.saturating_add(keep) > now
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
                throttled: false,
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

    /// Requests per second the cloud took from this state's clients (every process sharing it) over the `span`
    /// nanoseconds before `now`: those sent then and not answered with throttling (yet).
    fn accepted(&self, now: u64, span: u64) -> f64 {
        let taken = self
            .records
            .iter()
            .filter(|r| !r.throttled && r.start.saturating_add(span) > now)
            .count() as f64;
        taken * NANOS_PER_SEC as f64 / span.max(1) as f64
    }

    /// The goodput: requests per second the cloud took lately, the larger of the last second's and the last
    /// [`GOODPUT_SPAN`]'s (see there).
    fn goodput(&self, now: u64) -> f64 {
        self.accepted(now, NANOS_PER_SEC)
            .max(self.accepted(now, GOODPUT_SPAN))
    }

    /// Request `id`, sent at `sent`, was throttled, seen at `now`: CUBIC's multiplicative decrease, from the goodput.
    ///
    /// `W_max`, the plateau, is the goodput ([`Window::goodput`]: what the cloud took from this client lately,
    /// across every process sharing this state), and the rate drops to [`BETA`] of it. On a quota shared with other
    /// machines that is this client's share as the cloud measured it: the clients' plateaus add up to the quota
    /// after one decrease each, where a share of what was sent (botocore) needed several rounds of decreases, each
    /// costing throttled answers, and then left the quota half unused.
    ///
    /// Throttled answers to requests sent before the last decrease, or within a window after it, are the same
    /// congestion: a rolling-second quota still counts what was sent before the decrease. Each only says that one
    /// more request did not fit, so it takes one off `W_max` instead of decreasing again (TCP lowers its window
    /// once per round trip; botocore, multiplying at every throttled answer, takes a burst of them to the floor).
    /// After a burst of ten of which seven were throttled, `W_max` is the three the cloud took, whatever order the
    /// answers came in (at most down to [`BURST_FLOOR`] of the first answer's `W_max`).
    pub(crate) fn throttled(&mut self, now: u64, id: u64, sent: u64, ceiling: f64) {
        if let Some(r) = self.records.iter_mut().find(|r| r.id == id) {
            r.throttled = true;
        }
        let floor = MIN_RATE.min(ceiling);
        let same = nanos(Duration::from_secs_f64(WINDOW_MARGIN));
        if let Some(c) = self
            .cubic
            .as_mut()
            .filter(|c| sent < c.last_fail.saturating_add(same))
        {
            // At most down to a quarter of what the burst's first answer left: a machine whose whole burst met a
            // quota others had filled would otherwise restart from the floor and take seconds to grow back.
            c.w_max = (c.w_max - 1.0).max(c.event_w_max * BURST_FLOOR).max(floor);
            c.k = (c.w_max * (1.0 - BETA) / SCALE).cbrt();
            c.rate = c.rate.min(c.w_max * BETA).clamp(floor, ceiling);
            return;
        }
        let measured = self.measured(now).max(MIN_RATE);
        let goodput = self.goodput(now).min(ceiling);
        if let Some(c) = self.cubic.as_mut().filter(|_| goodput <= 0.0) {
            // Shut out: nothing this client sent lately was taken, so another client holds the whole quota for
            // now (a run sending its ceiling's bursts). That says nothing about this client's share: back off to
            // the floor while it lasts, and come back to the plateau within a few seconds instead of starting over
            // from the floor (the quota stood idle for seconds when that client's bursts ended).
            c.rate = floor;
            c.k = ((c.w_max - floor).max(0.0) / SCALE).cbrt();
            c.last_fail = now;
            return;
        }
        let hit = goodput.max(floor);
        // CUBIC's fast convergence (RFC 8312 section 4.6): throttled below the previous plateau, another client
        // has taken part of the quota, so aim the curve's plateau lower still and leave it room; clients sharing a
        // quota then converge to fair shares sooner.
        let w_max = match &self.cubic {
            Some(c) if hit < c.w_max => (hit * (1.0 + BETA) / 2.0).max(floor),
            _ => hit,
        };
        // Growing past the plateau found no room (the goodput is no more than the plateau was): hold longer next
        // time. Throttled during the hold, another client grew into this one's share: no sign either way.
        let fails = match &self.cubic {
            Some(c) if hit >= c.w_max + 1.0 => 0,
            Some(c) if c.probing(now, ceiling) => (c.fails + 1).min(MAX_HOLD_DOUBLINGS),
            Some(c) => c.fails,
            None => 0,
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
            fails,
        });
    }

    /// An answer that was not throttling came in at `now`: the rate follows CUBIC's curve back up to the plateau,
    /// stays there for the hold ([`PLATEAU_HOLD`]), then grows past it (to at most twice the measured rate, at most
    /// the ceiling); once the curve is at `ceiling` and no throttled answer came for [`CALM`], the cloud has
    /// stopped throttling and the adaptive rate is dropped.
    pub(crate) fn answered(&mut self, now: u64, ceiling: f64) {
        let measured = self.measured(now).max(MIN_RATE);
        let Some(c) = &mut self.cubic else {
            return;
        };
        let t = c.since_decrease(now);
        let curve = c.curve(t, ceiling);
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

impl Cubic {
    /// Whether at `now` the curve has grown past the plateau (the hold is over).
    fn probing(&self, now: u64, ceiling: f64) -> bool {
        self.since_decrease(now) > self.k + self.hold(ceiling)
    }

    /// Seconds from the last decrease to `now`: the curve's `t`.
    fn since_decrease(&self, now: u64) -> f64 {
        now.saturating_sub(self.last_fail) as f64 / NANOS_PER_SEC as f64
    }

    /// How long the curve stays at the plateau before growing past it, seconds.
    fn hold(&self, ceiling: f64) -> f64 {
        let share = (self.w_max / ceiling).clamp(0.0, 1.0);
        (PLATEAU_HOLD * share * f64::from(1u32 << self.fails.min(MAX_HOLD_DOUBLINGS))).min(MAX_HOLD)
    }

    /// The rate the curve gives `t` seconds after the last decrease: CUBIC's concave approach to `W_max` (reached
    /// at `K`), flat for the hold, then CUBIC's convex growth past it.
    fn curve(&self, t: f64, ceiling: f64) -> f64 {
        let hold = self.hold(ceiling);
        let x = if t > self.k + hold {
            t - hold
        } else {
            t.min(self.k)
        };
        SCALE * (x - self.k).powi(3) + self.w_max
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
    fn a_throttle_drops_the_rate_to_the_goodput_once_per_burst_and_cubic_growth_brings_it_back() {
        let mut w = Window::default();
        let mut id = 0;
        let (n, _) = fill(&mut w, 0, 10.0, &mut id);
        assert_eq!(n, 10);
        for i in 1..=10 {
            w.release(i, 40 * MS);
        }
        // Seven of the ten come back throttled: the first lowers the rate to 0.9 x 9 (the nine the cloud may have
        // taken), the others were sent before that and each takes one off: the three the cloud took, 0.9 x 3.
        w.throttled(50 * MS, 1, 0, 10.0);
        assert!((w.rate(10.0) - 8.1).abs() < 1e-9, "{}", w.rate(10.0));
        for i in 1..7 {
            w.throttled(50 * MS + i, 1 + i, 0, 10.0);
        }
        assert!((w.rate(10.0) - 2.7).abs() < 1e-9, "{}", w.rate(10.0));
        assert!(w.adapting());
        // Sent within a window after the drop: the rolling second still counted the burst, the same congestion
        // (one more off, at most down to a quarter of the first answer's 9).
        w.throttled(700 * MS, 99, 600 * MS, 10.0);
        assert!((w.rate(10.0) - 0.9 * 2.25).abs() < 1e-9, "{}", w.rate(10.0));
        // A request sent later and throttled again lowers it again, from what the cloud took since.
        assert_eq!(w.try_take(1500 * MS, 10.0, 100, 1), Take::Taken);
        w.release(100, 1530 * MS);
        w.throttled(1530 * MS, 100, 1500 * MS, 10.0);
        assert!(w.rate(10.0) < 2.0, "{}", w.rate(10.0));
        let low = w.rate(10.0);
        // Answers without throttling, with more requests waiting than turns (every free turn taken at once): the
        // rate follows the cubic curve back to the ceiling, then stops adapting.
        let mut last = low;
        let mut t = 1600 * MS;
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
            w.throttled(i * S, i, i * S, 10.0);
        }
        assert_eq!(w.rate(10.0), MIN_RATE);
        // One request a second measured: the curve may be far higher, the rate is at most two a second.
        let mut w = Window::default();
        assert_eq!(w.try_take(0, 10.0, 1, 1), Take::Taken);
        w.throttled(10 * MS, 1, 0, 10.0);
        assert!(w.rate(10.0) <= 2.0 * 1.0 + 1e-9);
        let _ = w.try_take(1500 * MS, 10.0, 2, 1);
        w.answered(1900 * MS, 10.0);
        assert!(w.rate(10.0) <= 2.0, "{}", w.rate(10.0));
        assert!(w.rate(3.0) <= 3.0);
    }

    /// `n` requests sent at `at`, answered 30 ms later, not throttled.
    fn taken(w: &mut Window, at: u64, n: u64) {
        for i in 0..n {
            w.records.push(Record {
                id: 1_000_000 + at / MS * 100 + i,
                pid: 1,
                start: at,
                end: Some(at + 30 * MS),
                throttled: false,
            });
        }
    }

    #[test]
    fn the_goodput_is_what_the_cloud_took_over_the_last_two_seconds() {
        // At the ceiling, records are kept for a second.
        let mut w = Window::default();
        taken(&mut w, 200 * MS, 4);
        w.tidy(1500 * MS, 10.0, alive);
        assert!(w.records.is_empty());
        // Adapting, for the goodput's two seconds.
        let mut w = Window {
            cubic: Some(Cubic {
                rate: 5.0,
                w_max: 5.0,
                k: 1.0,
                last_fail: 0,
                event_w_max: 5.0,
                fails: 0,
            }),
            ..Window::default()
        };
        taken(&mut w, 200 * MS, 4);
        taken(&mut w, 1200 * MS, 2);
        w.records.push(Record {
            id: 7,
            pid: 1,
            start: 1300 * MS,
            end: Some(1330 * MS),
            throttled: true,
        });
        // Kept for the two seconds (their turns came back long ago).
        w.tidy(1500 * MS, 10.0, alive);
        assert_eq!(w.records.len(), 7);
        // The last second alone: two a second; the last two: six, three a second. The throttled one is not
        // counted.
        assert_eq!(w.accepted(1500 * MS, S), 2.0);
        assert_eq!(w.goodput(1500 * MS), 3.0);
        w.tidy(2300 * MS, 10.0, alive);
        assert_eq!(w.records.len(), 3);
        let text = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Window>(&text).unwrap(), w);
        // A state written before goodput and holds were kept reads as nothing throttled, no failed probe.
        let old = r#"{"records":[{"id":1,"pid":2,"start":3}],"hold_until":0,
            "cubic":{"rate":2.0,"w_max":3.0,"k":1.0,"last_fail":5}}"#;
        let w: Window = serde_json::from_str(old).unwrap();
        assert!(!w.records[0].throttled);
        assert_eq!(w.cubic.map(|c| c.fails), Some(0));
    }

    #[test]
    fn throttled_below_the_last_plateau_the_curve_aims_lower_still() {
        let mut w = Window::default();
        let mut id = 0;
        let (n, _) = fill(&mut w, 0, 10.0, &mut id);
        assert_eq!(n, 10);
        for i in 1..=10 {
            w.release(i, 40 * MS);
        }
        w.throttled(50 * MS, 1, 0, 10.0);
        let first = w.cubic.clone().unwrap();
        assert_eq!(first.w_max, 9.0);
        // Later the cloud takes four a second from this client (others took the rest); the fifth is throttled:
        // RFC 8312's fast convergence aims the plateau below those four.
        for (i, at) in [2000, 2200, 2400, 2600].into_iter().enumerate() {
            assert_eq!(w.try_take(at * MS, 10.0, 50 + i as u64, 1), Take::Taken);
            w.release(50 + i as u64, at * MS + 30 * MS);
        }
        assert_eq!(w.try_take(2800 * MS, 10.0, 60, 1), Take::Taken);
        w.throttled(2830 * MS, 60, 2800 * MS, 10.0);
        let second = w.cubic.clone().unwrap();
        assert!(
            (second.w_max - 4.0 * (1.0 + BETA) / 2.0).abs() < 1e-9,
            "{second:?}"
        );
        assert!((second.rate - 4.0 * BETA).abs() < 1e-9, "{second:?}");
    }

    #[test]
    fn a_client_shut_out_keeps_its_plateau_and_comes_back_to_it() {
        let ceiling = 10.0;
        let mut w = Window::default();
        taken(&mut w, 0, 4);
        w.throttled(50 * MS, 0, 0, ceiling);
        let plateau = w.cubic.clone().unwrap().w_max;
        assert_eq!(plateau, 4.0);
        // Two seconds on, everything it sent was throttled (another client's bursts hold the quota): it backs
        // off to the floor but keeps its plateau.
        let mut id = 500;
        for at in [2500, 4600, 6700] {
            id += 1;
            let _ = w.try_take(at * MS, ceiling, id, 1);
            w.release(id, at * MS + 30 * MS);
            w.throttled(at * MS + 30 * MS, id, at * MS, ceiling);
        }
        let c = w.cubic.clone().unwrap();
        assert_eq!((c.rate, c.w_max), (MIN_RATE, plateau));
        // Then what it sends is taken again: it is back at the plateau within a few seconds.
        let mut t = 6800 * MS;
        while t < 6800 * MS + 4 * S {
            let first = id + 1;
            let (n, _) = fill(&mut w, t, ceiling, &mut id);
            for i in first..first + n as u64 {
                w.release(i, t + 30 * MS);
                w.answered(t + 30 * MS, ceiling);
            }
            t += 100 * MS;
        }
        assert!((w.rate(ceiling) - plateau).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn the_curve_holds_at_the_plateau_then_probes_and_holds_longer_after_a_probe_that_found_no_room(
    ) {
        let ceiling = 10.0;
        let cubic = |fails| Cubic {
            rate: 3.6,
            w_max: 4.0,
            k: 1.0,
            last_fail: 0,
            event_w_max: 4.0,
            fails,
        };
        // A plateau of 4 under a ceiling of 10: held for 0.4 x 15 s after K, then growing.
        let c = cubic(0);
        assert_eq!(c.hold(ceiling), 6.0);
        assert!(c.curve(0.0, ceiling) < 4.0);
        assert_eq!(c.curve(1.0, ceiling), 4.0);
        assert_eq!(c.curve(7.0, ceiling), 4.0);
        assert!(c.curve(8.0, ceiling) > 4.0);
        assert!((c.curve(8.0, ceiling) - 4.4).abs() < 1e-9);
        // Each probe that found no room doubles the hold, up to four times as long, and never beyond MAX_HOLD.
        assert_eq!(cubic(1).hold(ceiling), MAX_HOLD);
        assert_eq!(cubic(9).hold(ceiling), MAX_HOLD);
        let small = Cubic {
            w_max: 1.0,
            ..cubic(2)
        };
        assert_eq!(small.hold(ceiling), 6.0);

        // Throttled while probing, with no more taken than the plateau: one more failure.
        let at = |t: u64, fails| {
            let mut w = Window {
                cubic: Some(cubic(fails)),
                ..Window::default()
            };
            taken(&mut w, t * S - 500 * MS, 4);
            w.throttled(t * S, 1, t * S - 100 * MS, ceiling);
            w.cubic.unwrap().fails
        };
        assert_eq!(at(8, 0), 1);
        assert_eq!(at(14, 1), 2);
        assert_eq!(at(30, 2), 2);
        // Throttled during the hold (another client grew into this one's share): no change.
        assert_eq!(at(4, 1), 1);
        // The probe found room (more taken than the plateau): short holds again.
        let mut w = Window {
            cubic: Some(cubic(2)),
            ..Window::default()
        };
        taken(&mut w, 29 * S + 500 * MS, 6);
        w.throttled(30 * S, 1, 30 * S - 100 * MS, ceiling);
        assert_eq!(w.cubic.unwrap().fails, 0);
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
