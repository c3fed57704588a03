//! # A short guide to event-driven I/O with this crate
//!
//! ## 1. Create a `Poll` and an `Events` buffer
//!
//! A [`Poll`](crate::Poll) owns the OS selector. An [`Events`](crate::Events) buffer is
//! allocated once and reused by every call to `poll`; its capacity is how many events one call
//! can return (more stay queued for the next call).
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # #[cfg(feature = "os-poll")] {
//! let poll = mio::Poll::new()?;
//! let events = mio::Events::with_capacity(1024);
//! # drop((poll, events));
//! # }
//! # Ok(())
//! # }
//! ```
//!
//! ## 2. Register sources
//!
//! Anything that implements [`event::Source`](crate::event::Source) can be registered with
//! the [`Registry`](crate::Registry): the `mio::net` sockets, the `mio::unix::pipe` ends, any
//! raw fd through `mio::unix::SourceFd`, or your own type delegating to one of those. Pick a
//! [`Token`](crate::Token) to recognise the source by, and an [`Interest`](crate::Interest).
//!
//! ## 3. Poll and handle events
//!
//! Call [`Poll::poll`](crate::Poll::poll) in a loop. For each event, look the source up by its
//! token and perform I/O **until it returns `WouldBlock`**: registrations are edge-triggered,
//! so an event means "something changed", and the next event comes only after the source ran
//! dry and then became ready again. A `WouldBlock` right after an event is normal (spurious
//! events happen). Handle `ErrorKind::Interrupted` from `poll` by polling again.
//!
//! ## 4. Wake from other threads
//!
//! A [`Waker`](crate::Waker) makes a blocked `poll` return; use it to hand work to the event
//! loop from other threads. One `Waker` per `Poll`.
//!
//! ## 5. Clean up
//!
//! Deregister a source before dropping it when it may have been duplicated; dropping the last
//! fd removes it from the selector anyway.
