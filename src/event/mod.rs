//! Readiness events and the sources that produce them.
//!
//! [`Poll::poll`](crate::Poll::poll) fills an [`Events`] buffer with [`Event`]s; each event
//! carries the [`Token`](crate::Token) its [`Source`] was registered with and the readiness
//! that was observed.

#[allow(clippy::module_inception)]
mod event;
mod events;
mod source;

pub use self::event::Event;
pub use self::events::{Events, Iter};
pub use self::source::Source;
