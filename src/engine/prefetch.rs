//! Fetches the next page of a walk while the caller writes the current one: the network
//! and JSON parsing run on a helper thread, SQLite on the caller's, so one org's sync
//! uses two cores instead of alternating between them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;

use crate::cliniko::{ApiError, Client, PageSource, WalkPage};

/// Pages fetched ahead of the writer at most (one more is being fetched).
pub const AHEAD: usize = 3;

/// What the caller of [`walk_pages`] wants after each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Stop the walk.
    Stop,
    /// Wait for the next page, however long it takes.
    Next,
    /// Wait for the next page at most this long, then call `each(None)`.
    Within(Duration),
}

/// Walks `walk` to its end ahead of `each`, which is called on the caller's thread with
/// every page in order (`Some(Ok(page))`), with the error that ended the walk
/// (`Some(Err(e))`, after which it is not called again), or with `None` when no page
/// came within the time its last answer asked for ([`Flow::Within`]). An `Err` from
/// `each` stops the walk and is returned. Returns the walk, to ask whether it completed.
///
/// The helper checks `cancel` before each request and then reports
/// [`ApiError::Interrupted`]. At most [`AHEAD`] pages wait in memory, so memory stays
/// flat. Pages fetched but not yet handed to `each` when it stops are dropped.
pub fn walk_pages<W: PageSource + Send, E>(
    walk: W,
    client: &Client,
    cancel: &AtomicBool,
    mut each: impl FnMut(Option<Result<WalkPage, ApiError>>) -> Result<Flow, E>,
) -> Result<W, E> {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel(AHEAD - 1);
        let fetcher = scope.spawn(move || {
            let mut walk = walk;
            while !walk.is_complete() {
                let item = if cancel.load(Ordering::Relaxed) {
                    Err(ApiError::Interrupted)
                } else {
                    walk.next_page(client)
                };
                let last = !matches!(item, Ok(Some(_)));
                if tx.send(item).is_err() || last {
                    break;
                }
            }
            walk
        });
        let mut result = Ok(());
        let mut within = None;
        loop {
            let received = match within {
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(d) => rx.recv_timeout(d),
            };
            let step = match received {
                // No page within the writer's wait: it may flush what it holds.
                Err(RecvTimeoutError::Timeout) => each(None),
                Err(RecvTimeoutError::Disconnected) | Ok(Ok(None)) => break,
                Ok(Ok(Some(page))) => each(Some(Ok(page))),
                Ok(Err(e)) => each(Some(Err(e))).map(|_| Flow::Stop),
            };
            match step {
                Ok(Flow::Stop) => break,
                Ok(Flow::Next) => within = None,
                Ok(Flow::Within(d)) => within = Some(d),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        // A fetcher blocked on a full channel sees the receiver gone and stops.
        drop(rx);
        let walk = fetcher
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        result.map(|()| walk)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cliniko::{ClientSettings, RateLimiter, RetryPolicy, Walk, WalkStart, endpoint};
    use crate::resource::Resource;
    use crate::secret::ApiKey;
    use fake_cliniko::{FakeCliniko, FakeOptions, World};
    use std::sync::Arc;
    use std::time::Duration;

    fn client(fake: &FakeCliniko, key: &str) -> Client {
        let settings = ClientSettings {
            label: "org_test".into(),
            base_url: fake.base_url(),
            user_agent: "prefetch test (test@example.com)".into(),
            request_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            privacy: Default::default(),
        };
        Client::new(
            &ApiKey::new(key),
            settings,
            Arc::new(RateLimiter::new(1e9)),
            Arc::new(AtomicBool::new(false)),
        )
    }

    fn walk() -> Walk {
        Walk::new(endpoint(Resource::Patients), WalkStart::Beginning, None).with_per_page(10)
    }

    #[test]
    fn hands_over_every_page_in_order_then_stops_early_on_request() {
        let (world, orgs) = World::demo(1, 45, 0, 3);
        let fake = FakeCliniko::start(world, FakeOptions::default()).unwrap();
        let c = client(&fake, &orgs[0].1);
        let cancel = AtomicBool::new(false);
        let mut seen = 0;
        let w = walk_pages(walk(), &c, &cancel, |p| -> Result<Flow, ()> {
            seen += p.unwrap().unwrap().new_records;
            Ok(Flow::Next)
        })
        .unwrap();
        assert!(w.is_complete());
        assert_eq!(seen, 45);

        let mut pages = 0;
        let w = walk_pages(walk(), &c, &cancel, |_| -> Result<Flow, ()> {
            pages += 1;
            Ok(if pages < 2 { Flow::Next } else { Flow::Stop })
        })
        .unwrap();
        assert_eq!(pages, 2);
        assert!(!w.is_complete());
        assert_eq!(
            walk_pages(walk(), &c, &cancel, |_| Err::<Flow, _>("disk full")).unwrap_err(),
            "disk full"
        );
    }

    #[test]
    fn cancel_is_reported_as_interrupted() {
        let (world, orgs) = World::demo(1, 45, 0, 3);
        let fake = FakeCliniko::start(world, FakeOptions::default()).unwrap();
        let c = client(&fake, &orgs[0].1);
        let cancel = AtomicBool::new(true);
        let mut got = Vec::new();
        walk_pages(walk(), &c, &cancel, |p| -> Result<Flow, ()> {
            got.push(p.unwrap().map(|_| ()));
            Ok(Flow::Next)
        })
        .unwrap();
        assert_eq!(got, vec![Err(ApiError::Interrupted)]);
        assert_eq!(c.calls(), 0);
    }
}
