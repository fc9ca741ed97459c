//! Waiting for a cloud to finish importing or deleting an image.
//!
//! Imports take minutes to an hour. The first look comes about a second after the import call; after that the
//! interval grows with the time already waited (a tenth of it), capped, so completion is noticed within about 10%
//! of the import's duration (or 2 s) while a long import costs few API calls: one an hour-long import costs about
//! 210 looks, and no wait ever looks more than once a second. Every change of state or progress is logged at INFO,
//! which `TF_LOG=info` shows.
//!
//! Wake-ups are rounded up to a process-wide grid (200 ms), so waits of images imported a little apart still look
//! at the same moment and share one describe call (see `batch`) instead of each costing its own. A wait's first
//! look also joins a look the running waits already have planned when one falls between 0.7 s after its start and
//! the wake-up the grid gives it: Terraform starts the creates of a round over up to a few hundred milliseconds when
//! its state is large, and a create that started just past a grid slot would otherwise begin a poll cadence of its
//! own, which every later create in its Terraform slot inherits (at 1,000 images the waits split into ever more
//! cadences and describe calls per image grew from 0.35 to 1.4 between runs).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::{CloudError, Image, ImageState};
use crate::signal::Signal;

/// How often to look.
#[derive(Debug, Clone, Copy)]
pub(super) struct PollSchedule {
    /// The first interval.
    pub first: Duration,
    /// The longest interval.
    pub max: Duration,
    /// Wake-ups are rounded up to a multiple of this since the process's first wait (zero: no rounding).
    pub align: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            max: Duration::from_secs(20),
            align: Duration::from_millis(200),
        }
    }
}

impl PollSchedule {
    /// The wait before the next look, given how long we have waited so far.
    pub(super) fn next(&self, waited: Duration) -> Duration {
        (waited / 10).clamp(self.first, self.max)
    }

    /// When to look next: `next` from `now`, rounded up to the grid.
    pub(super) fn wake(&self, now: Instant, waited: Duration) -> Instant {
        let at = now + self.next(waited);
        if self.align.is_zero() {
            return at;
        }
        // The grid is placed so that the process's first wake-up falls mid-slot: images imported together a few
        // milliseconds apart then share a slot, instead of the first of them sitting exactly on a slot boundary
        // and the rest being pushed into the next slot (and staying a slot apart for the whole wait).
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let epoch = *EPOCH.get_or_init(|| at + self.align / 2);
        round_up(at, epoch, self.align)
    }
}

/// How early a wait's first look may come to join the looks of waits already running, as a share of
/// [`PollSchedule::first`].
const FIRST_LOOK_EARLIEST: f64 = 0.7;

/// How early any later look may come to join the looks of other waits, as a share of the interval it would wait.
/// Waits that start apart (the copies of images whose imports ended a second apart, the creates of Terraform's
/// later slots) otherwise keep cadences of their own and each costs its own describe call: with half an interval,
/// of two cadences of one interval one always finds the other's look in its window, so they merge within one
/// interval. A look only ever comes earlier, never later, than its schedule, so no wait notices completion later.
const LATER_LOOK_EARLIEST: f64 = 0.5;

/// The wake-ups waits are sleeping until, so that a new wait's first look can join them.
#[derive(Debug, Default)]
struct Wakes {
    pending: Mutex<BTreeMap<Instant, usize>>,
}

impl Wakes {
    /// The wake-ups of every wait in this process (waits of all clouds and regions: joining a look of another
    /// region costs nothing, the describe calls are still made per region).
    fn process() -> &'static Wakes {
        static WAKES: OnceLock<Wakes> = OnceLock::new();
        WAKES.get_or_init(Wakes::default)
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, BTreeMap<Instant, usize>> {
        // Counts only: a panic elsewhere cannot leave them half-changed.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The planned wake-up in `from..=to` that the most waits share (the later one of equals), if any.
    fn busiest(&self, from: Instant, to: Instant) -> Option<Instant> {
        if from > to {
            return None;
        }
        self.pending()
            .range(from..=to)
            .max_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(b.0)))
            .map(|(at, _)| *at)
    }

    /// Notes that a wait sleeps until `at`, until the returned booking is dropped.
    fn book(&self, at: Instant) -> Booking<'_> {
        *self.pending().entry(at).or_default() += 1;
        Booking { wakes: self, at }
    }
}

/// One wait's planned wake-up, listed in [`Wakes`] while it lasts (also when the wait is dropped mid-sleep).
struct Booking<'a> {
    wakes: &'a Wakes,
    at: Instant,
}

impl Drop for Booking<'_> {
    fn drop(&mut self) {
        let mut pending = self.wakes.pending();
        if let Some(n) = pending.get_mut(&self.at) {
            *n -= 1;
            if *n == 0 {
                pending.remove(&self.at);
            }
        }
    }
}

/// `at` rounded up to the next instant `epoch + k * step` (k may be negative).
fn round_up(at: Instant, epoch: Instant, step: Duration) -> Instant {
    let step_ns = step.as_nanos();
    if step_ns == 0 {
        return at;
    }
    let rem = if at >= epoch {
        at.duration_since(epoch).as_nanos() % step_ns
    } else {
        (step_ns - epoch.duration_since(at).as_nanos() % step_ns) % step_ns
    };
    if rem == 0 {
        at
    } else {
        // `step_ns - rem` < `step_ns`, which came from a Duration, so it fits.
        at + Duration::from_nanos(u64::try_from(step_ns - rem).unwrap_or(0))
    }
}

/// How a wait ended.
#[derive(Debug)]
pub(super) enum WaitEnd {
    /// The image reached the state waited for (or, for a deletion, is gone: `None`).
    Done(Option<Image>),
    /// The cloud gave up on the image.
    Failed(Image),
    /// The timeout passed first; the last image seen, if any.
    TimedOut(Option<Image>),
    /// Terraform asked the provider to stop.
    Stopped(Option<Image>),
    /// Looking failed.
    Error(CloudError),
}

/// What is being waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Goal {
    /// The image becomes available.
    Available,
    /// The image disappears.
    Gone,
}

/// How long an image may be missing right after its import call before we believe it (clouds list new images
/// with a delay).
const NEW_IMAGE_GRACE: Duration = Duration::from_secs(60);

/// Polls `look` until the goal, a failure, the timeout or a stop.
pub(super) async fn wait_for<F, Fut>(
    goal: Goal,
    label: &str,
    timeout: Duration,
    schedule: PollSchedule,
    stop: &Signal,
    look: F,
) -> WaitEnd
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<Image>, CloudError>>,
{
    wait_with(goal, label, timeout, schedule, stop, Wakes::process(), look).await
}

/// [`wait_for`] with the wake-ups of `wakes` to join (tests use their own).
async fn wait_with<F, Fut>(
    goal: Goal,
    label: &str,
    timeout: Duration,
    schedule: PollSchedule,
    stop: &Signal,
    wakes: &Wakes,
    mut look: F,
) -> WaitEnd
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<Image>, CloudError>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut last: Option<Image> = None;
    let mut last_seen: (Option<ImageState>, Option<u8>) = (None, None);
    let mut first = true;
    loop {
        let now = Instant::now();
        let mut wake = schedule.wake(now, started.elapsed());
        if !schedule.align.is_zero() {
            let earliest = if first {
                now + schedule.first.mul_f64(FIRST_LOOK_EARLIEST)
            } else {
                now + schedule
                    .next(started.elapsed())
                    .mul_f64(LATER_LOOK_EARLIEST)
            };
            wake = wakes.busiest(earliest, wake).unwrap_or(wake);
        }
        first = false;
        let wake = wake.min(deadline);
        let booking = wakes.book(wake);
        tokio::select! {
            _ = stop.wait() => return WaitEnd::Stopped(last),
            _ = tokio::time::sleep_until(wake) => {}
        }
        drop(booking);
        let found = match look().await {
            Ok(found) => found,
            Err(e) => return WaitEnd::Error(e),
        };
        match (goal, found) {
            (Goal::Gone, None) => return WaitEnd::Done(None),
            (Goal::Available, None) if started.elapsed() < NEW_IMAGE_GRACE => {
                tracing::debug!(image = label, "image not listed yet");
            }
            (Goal::Available, None) => return WaitEnd::Done(None),
            (_, Some(image)) => {
                let seen = (Some(image.state), image.progress);
                if seen != last_seen {
                    tracing::info!(
                        image = label,
                        state = %image.raw_state,
                        progress = image.progress.map(i64::from).unwrap_or(-1),
                        waited_s = started.elapsed().as_secs(),
                        "image {} {}{}",
                        label,
                        image.raw_state,
                        image.progress.map(|p| format!(" ({p}%)")).unwrap_or_default()
                    );
                    last_seen = seen;
                }
                match (goal, image.state) {
                    (Goal::Available, ImageState::Available) => return WaitEnd::Done(Some(image)),
                    (_, ImageState::Failed) => return WaitEnd::Failed(image),
                    _ => last = Some(image),
                }
            }
        }
        if Instant::now() >= deadline {
            return WaitEnd::TimedOut(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn image(state: ImageState, progress: u8) -> Image {
        Image {
            id: "img-1".into(),
            state,
            raw_state: format!("{state:?}"),
            progress: Some(progress),
            ..Image::default()
        }
    }

    #[test]
    fn schedule_starts_fast_and_stays_within_a_tenth() {
        let s = PollSchedule::default();
        assert_eq!(s.next(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(s.next(Duration::from_secs(100)), Duration::from_secs(10));
        assert_eq!(s.next(Duration::from_secs(3600)), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn wake_ups_land_on_one_grid() {
        let s = PollSchedule::default();
        let base = Instant::now();
        let first = s.wake(base, Duration::ZERO);
        for ms in (0..1000).step_by(7) {
            let now = base + Duration::from_millis(ms);
            let w = s.wake(now, Duration::ZERO);
            let late = w.duration_since(now);
            assert!(late >= Duration::from_secs(1) && late < Duration::from_millis(1200));
            let apart = if w >= first { w - first } else { first - w };
            assert_eq!(
                apart.as_nanos() % s.align.as_nanos(),
                0,
                "{ms} ms: off the grid"
            );
        }
        let off = PollSchedule {
            align: Duration::ZERO,
            ..s
        };
        assert_eq!(
            off.wake(base, Duration::ZERO),
            base + Duration::from_secs(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_around_the_first_wake_up_shares_its_slot() {
        let step = Duration::from_millis(200);
        let t0 = Instant::now();
        // As `wake` places the grid: the first wake-up mid-slot.
        let epoch = t0 + step / 2;
        let slot = round_up(t0, epoch, step);
        for ms in 0..=99 {
            assert_eq!(round_up(t0 + Duration::from_millis(ms), epoch, step), slot);
        }
        assert_eq!(slot - t0, step / 2);
        assert_eq!(round_up(epoch, epoch, step), epoch);
        assert_eq!(round_up(epoch - step, epoch, step), epoch - step);
        assert_eq!(
            round_up(epoch - step + Duration::from_millis(1), epoch, step),
            epoch
        );
    }

    /// For imports of many lengths: the first look comes within ~1 s of the import call, completion is noticed
    /// within 10% of the import's length or 2 s (whichever is larger), and no wait looks more than once a second.
    #[tokio::test(start_paused = true)]
    async fn completion_is_noticed_within_a_tenth_or_two_seconds() {
        for secs in [0.3, 1.5, 4.0, 9.7, 10.5, 37.0, 180.0, 333.0, 1000.0, 3600.0] {
            let import = Duration::from_secs_f64(secs);
            let started = Instant::now();
            let looks = Arc::new(std::sync::Mutex::new(Vec::new()));
            let seen = looks.clone();
            let end = wait_for(
                Goal::Available,
                "img-1",
                Duration::from_secs(7200),
                PollSchedule::default(),
                &Signal::new(),
                move || {
                    let at = started.elapsed();
                    seen.lock().unwrap().push(at);
                    async move {
                        Ok(Some(if at >= import {
                            image(ImageState::Available, 100)
                        } else {
                            image(ImageState::Importing, 50)
                        }))
                    }
                },
            )
            .await;
            assert!(matches!(end, WaitEnd::Done(Some(_))), "{secs}s: {end:?}");
            let looks = looks.lock().unwrap().clone();
            let noticed = *looks.last().unwrap();
            let allowed = (import / 10).max(Duration::from_secs(2));
            assert!(
                noticed - import <= allowed,
                "{secs}s import noticed after {noticed:?}"
            );
            assert!(
                looks[0] <= Duration::from_millis(1200),
                "first look {:?}",
                looks[0]
            );
            for pair in looks.windows(2) {
                assert!(pair[1] - pair[0] >= Duration::from_secs(1), "{looks:?}");
            }
            if secs >= 3600.0 {
                assert!(looks.len() <= 215, "an hour took {} looks", looks.len());
            }
        }
    }

    /// Runs a wait with its own wake-up list from `start_after` on, for an image that becomes available at
    /// `available_at`; returns the times of its looks.
    async fn looks_of(
        wakes: Arc<Wakes>,
        t0: Instant,
        start_after: Duration,
        available_at: Duration,
    ) -> Vec<Duration> {
        tokio::time::sleep_until(t0 + start_after).await;
        let looks = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = looks.clone();
        let end = wait_with(
            Goal::Available,
            "img-1",
            Duration::from_secs(600),
            PollSchedule::default(),
            &Signal::new(),
            &wakes,
            move || {
                let at = t0.elapsed();
                seen.lock().unwrap().push(at);
                async move {
                    Ok(Some(if at >= available_at {
                        image(ImageState::Available, 100)
                    } else {
                        image(ImageState::Importing, 50)
                    }))
                }
            },
        )
        .await;
        assert!(matches!(end, WaitEnd::Done(Some(_))), "{end:?}");
        let looks = looks.lock().unwrap().clone();
        looks
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_started_late_joins_the_looks_already_planned() {
        let ms = Duration::from_millis;
        // Up to 0.3 s late (the other's first look lies 1.0-1.2 s after its start, wherever the grid falls).
        for late in [ms(100), ms(150), ms(300)] {
            let wakes = Arc::new(Wakes::default());
            let t0 = Instant::now();
            let (early, late_looks) = tokio::join!(
                looks_of(wakes.clone(), t0, ms(0), ms(5000)),
                looks_of(wakes.clone(), t0, late, ms(5000)),
            );
            // Its first look comes no sooner than 0.7 s after it started, and every look is one of the other's:
            // both waits cost one describe call per look together.
            assert!(late_looks[0] >= late + ms(700), "{late:?}: {late_looks:?}");
            assert!(
                late_looks.iter().all(|t| early.contains(t)),
                "{late:?}: {late_looks:?} vs {early:?}"
            );
            assert!(pair_gaps_at_least_a_second(&late_looks), "{late_looks:?}");
            assert!(wakes.pending().is_empty(), "bookings left behind");
        }
        // Too late for its first look to join without looking sooner than 0.7 s after starting: that look is its
        // own, and the earlier wait's next look (which may come half an interval early) joins it; from then on the
        // two share every look.
        let wakes = Arc::new(Wakes::default());
        let t0 = Instant::now();
        let (early, late_looks) = tokio::join!(
            looks_of(wakes.clone(), t0, ms(0), ms(5000)),
            looks_of(wakes.clone(), t0, ms(700), ms(5000)),
        );
        assert!(late_looks[0] >= ms(700) + ms(1000), "{late_looks:?}");
        assert!(
            late_looks.iter().all(|t| early.contains(t)),
            "{late_looks:?} vs {early:?}"
        );
        assert!(pair_gaps_at_least_a_second(&late_looks), "{late_looks:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn cadences_half_an_interval_apart_merge() {
        let ms = Duration::from_millis;
        let wakes = Arc::new(Wakes::default());
        let t0 = Instant::now();
        let (a, b) = tokio::join!(
            looks_of(wakes.clone(), t0, ms(0), ms(8000)),
            looks_of(wakes.clone(), t0, ms(1500), ms(8000)),
        );
        // After at most two looks of the later wait, every look of it is one of the earlier's.
        assert!(b[2..].iter().all(|t| a.contains(t)), "{b:?} vs {a:?}");
        assert!(wakes.pending().is_empty(), "bookings left behind");
    }

    fn pair_gaps_at_least_a_second(looks: &[Duration]) -> bool {
        looks
            .windows(2)
            .all(|p| p[1] - p[0] >= Duration::from_secs(1))
    }

    #[tokio::test(start_paused = true)]
    async fn waits_until_available() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let end = wait_for(
            Goal::Available,
            "img-1",
            Duration::from_secs(600),
            PollSchedule::default(),
            &Signal::new(),
            move || {
                let n = c.fetch_add(1, Ordering::SeqCst);
                async move {
                    Ok(Some(if n < 3 {
                        image(ImageState::Importing, (n * 30) as u8)
                    } else {
                        image(ImageState::Available, 100)
                    }))
                }
            },
        )
        .await;
        assert!(matches!(end, WaitEnd::Done(Some(ref i)) if i.state == ImageState::Available));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_stops_at_once() {
        let end = wait_for(
            Goal::Available,
            "img-1",
            Duration::from_secs(600),
            PollSchedule::default(),
            &Signal::new(),
            || async { Ok(Some(image(ImageState::Failed, 10))) },
        )
        .await;
        assert!(matches!(end, WaitEnd::Failed(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_the_last_image() {
        let end = wait_for(
            Goal::Available,
            "img-1",
            Duration::from_secs(30),
            PollSchedule::default(),
            &Signal::new(),
            || async { Ok(Some(image(ImageState::Importing, 5))) },
        )
        .await;
        assert!(matches!(end, WaitEnd::TimedOut(Some(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn stop_interrupts() {
        let stop = Signal::new();
        stop.trigger();
        let end = wait_for(
            Goal::Available,
            "img-1",
            Duration::from_secs(600),
            PollSchedule::default(),
            &stop,
            || async { Ok(Some(image(ImageState::Importing, 5))) },
        )
        .await;
        assert!(matches!(end, WaitEnd::Stopped(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn gone_is_done_for_deletes() {
        let end = wait_for(
            Goal::Gone,
            "img-1",
            Duration::from_secs(60),
            PollSchedule::default(),
            &Signal::new(),
            || async { Ok(None) },
        )
        .await;
        assert!(matches!(end, WaitEnd::Done(None)));
    }
}
