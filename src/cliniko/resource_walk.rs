//! Walking every list route of a resource one after the other, as one walk.
//!
//! Practitioners come from `/practitioners` and `/practitioners/inactive`; each route is
//! walked from its own start (its own cursor) to its end before the next begins. The
//! walk is complete only when every route's walk is, which is what allows a full sync to
//! reconcile the resource's table.

use super::ApiError;
use super::client::Client;
use super::endpoints::Endpoint;
use super::walk::{Walk, WalkPage, WalkStart};
use crate::timestamp::Timestamp;

/// The walks of a resource's routes, in order.
#[derive(Debug)]
pub struct ResourceWalk {
    walks: Vec<Walk>,
    current: usize,
}

impl ResourceWalk {
    /// One walk per `(route, start)`; `window` applies to routes that have a window field.
    pub fn new(
        routes: impl IntoIterator<Item = (Endpoint, WalkStart)>,
        window: Option<(Timestamp, Timestamp)>,
    ) -> ResourceWalk {
        ResourceWalk {
            walks: routes
                .into_iter()
                .map(|(route, start)| Walk::new(route, start, window))
                .collect(),
            current: 0,
        }
    }

    /// Whether every route's walk has read its last page.
    pub fn is_complete(&self) -> bool {
        self.walks.iter().all(Walk::is_complete)
    }

    /// Fetches the next page of the current route (moving on to the next route when one
    /// ends), or `None` once every route is complete.
    pub fn next_page(&mut self, client: &Client) -> Result<Option<WalkPage>, ApiError> {
        while let Some(walk) = self.walks.get_mut(self.current) {
            if walk.is_complete() {
                self.current += 1;
                continue;
            }
            return walk.next_page(client);
        }
        Ok(None)
    }
}

impl super::walk::PageSource for ResourceWalk {
    fn is_complete(&self) -> bool {
        ResourceWalk::is_complete(self)
    }

    fn next_page(&mut self, client: &Client) -> Result<Option<WalkPage>, ApiError> {
        ResourceWalk::next_page(self, client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cliniko::endpoints::routes;
    use crate::resource::Resource;

    #[test]
    fn a_walk_without_routes_is_complete_and_one_with_routes_is_not() {
        assert!(ResourceWalk::new([], None).is_complete());
        let w = ResourceWalk::new(
            routes(Resource::Practitioners)
                .iter()
                .map(|r| (*r, WalkStart::Beginning)),
            None,
        );
        assert_eq!(w.walks.len(), 2);
        assert!(!w.is_complete());
        let paths: Vec<_> = w
            .walks
            .iter()
            .map(|w| w.next_query().filters().len())
            .collect();
        assert_eq!(paths, [0, 0], "practitioners take no hidden-record filter");
    }
}
