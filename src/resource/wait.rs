//! Waiting for a cloud to finish importing or deleting an image.
//!
//! Imports take minutes to an hour. The first look comes about a second after the import call; after that the
//! interval grows with the time already waited (a tenth of it), capped, so completion is noticed within about 10%
//! of the import's duration (or 2 s) while a long import costs few API calls. Every change of state or progress is
//! logged at INFO, which `TF_LOG=info` shows.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::cloud::{CloudError, Image, ImageState};
use crate::signal::Signal;

/// How often to look.
#[derive(Debug, Clone, Copy)]
pub struct PollSchedule {
    /// The first interval.
    pub first: Duration,
    /// The longest interval.
    pub max: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            max: Duration::from_secs(20),
        }
    }
}

impl PollSchedule {
    /// The wait before the next look, given how long we have waited so far.
    pub fn next(&self, waited: Duration) -> Duration {
        (waited / 10).clamp(self.first, self.max)
    }
}

/// How a wait ended.
#[derive(Debug)]
pub enum WaitEnd {
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
pub enum Goal {
    /// The image becomes available.
    Available,
    /// The image disappears.
    Gone,
}

/// How long an image may be missing right after its import call before we believe it (clouds list new images
/// with a delay).
const NEW_IMAGE_GRACE: Duration = Duration::from_secs(60);

/// Polls `look` until the goal, a failure, the timeout or a stop.
pub async fn wait_for<F, Fut>(
    goal: Goal,
    label: &str,
    timeout: Duration,
    schedule: PollSchedule,
    stop: &Signal,
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
    loop {
        let pause = schedule.next(started.elapsed());
        let wake = (Instant::now() + pause).min(deadline);
        tokio::select! {
            _ = stop.wait() => return WaitEnd::Stopped(last),
            _ = tokio::time::sleep_until(wake) => {}
        }
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
