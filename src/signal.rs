//! A one-shot, clonable signal: "stop what you are doing".
//!
//! The transport uses one for the host's Shutdown call and the provider core uses one for StopProvider, which
//! cancels in-flight waits for images.

use tokio::sync::watch;

/// Fires once; every clone sees it, and waiters that start after it fired return at once.
#[derive(Clone, Debug)]
pub struct Signal {
    tx: watch::Sender<bool>,
}

impl Signal {
    /// A signal that has not fired.
    pub fn new() -> Self {
        Self {
            tx: watch::channel(false).0,
        }
    }

    /// Fires the signal.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether it has fired.
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Resolves once the signal has fired.
    pub fn wait(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // The sender lives in `self`'s clones; an error means all are gone, which also means "stop".
            let _ = rx.wait_for(|fired| *fired).await;
        }
    }
}

impl Default for Signal {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waiters_before_and_after_wake() {
        let s = Signal::new();
        let early = tokio::spawn(s.wait());
        assert!(!s.is_triggered());
        s.clone().trigger();
        early.await.unwrap();
        s.wait().await;
        assert!(s.is_triggered());
    }
}
