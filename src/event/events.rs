use std::fmt;

use crate::event::Event;
use crate::sys;

/// A reusable buffer of readiness events, filled by [`Poll::poll`](crate::Poll::poll).
///
/// The buffer is allocated once, by [`Events::with_capacity`], and never grows: each call to
/// `poll` replaces its contents with at most [`capacity`](Events::capacity) events. Events
/// beyond the capacity are not lost; they stay queued in the kernel and are returned by the
/// next call.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # #[cfg(feature = "os-poll")] {
/// use std::time::Duration;
/// use mio::{Events, Poll};
///
/// let mut events = Events::with_capacity(1024);
/// let mut poll = Poll::new()?;
///
/// // Nothing is registered, so this times out with no events.
/// poll.poll(&mut events, Some(Duration::from_millis(1)))?;
/// assert!(events.is_empty());
///
/// for event in events.iter() {
///     println!("got an event: {:?}", event);
/// }
/// # }
/// # Ok(())
/// # }
/// ```
pub struct Events {
    inner: sys::Events,
}

impl Events {
    /// Creates a buffer that holds up to `capacity` events per call to `poll`.
    ///
    /// A capacity of 0 is accepted here, but `poll` with it fails with
    /// [`InvalidInput`](std::io::ErrorKind::InvalidInput).
    ///
    /// ```
    /// let events = mio::Events::with_capacity(256);
    /// assert_eq!(events.capacity(), 256);
    /// ```
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            inner: sys::Events::with_capacity(capacity),
        }
    }

    /// The number of events one call to `poll` can return: exactly what was requested.
    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// Whether the last call to `poll` returned no event (also true before the first call).
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// An iterator over the events of the last call to `poll`.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self,
            pos: 0,
        }
    }

    /// Removes every event; the capacity is kept. `poll` does this itself before filling.
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// The selector-level buffer, for the selector to fill.
    pub(crate) fn sys(&mut self) -> &mut sys::Events {
        &mut self.inner
    }
}

impl<'a> IntoIterator for &'a Events {
    type Item = &'a Event;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self).finish()
    }
}

/// An iterator over the [`Event`]s in an [`Events`] buffer.
///
/// As upstream's, its `size_hint` and `count` describe the whole buffer, not only the events
/// that are left.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    inner: &'a Events,
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Event;

    fn next(&mut self) -> Option<Self::Item> {
        let ret = self
            .inner
            .inner
            .get(self.pos)
            .map(Event::from_sys_event_ref);
        self.pos += 1;
        ret
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let size = self.inner.inner.len();
        (size, Some(size))
    }

    fn count(self) -> usize {
        self.inner.inner.len()
    }
}
