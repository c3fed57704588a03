//! The shell backend, compiled without `os-poll`: every type exists so that libraries can name
//! them, but anything that would need the OS panics with [`os_required!`]'s message.
//! `Events::with_capacity`, `Interest` and `Token` keep working.

#![allow(dead_code)]

use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use crate::{Interest, Token};

macro_rules! os_required {
    () => {
        panic!("mio must be compiled with `os-poll` to run.")
    };
}

/// An event slot; never filled in the shell.
pub(crate) type Event = usize;
pub(crate) type Events = Vec<Event>;

#[derive(Debug)]
pub(crate) struct Selector {
    _private: (),
}

impl Selector {
    pub(crate) fn try_clone(&self) -> io::Result<Selector> {
        os_required!()
    }

    pub(crate) fn select(&mut self, _: &mut Events, _: Option<Duration>) -> io::Result<()> {
        os_required!()
    }

    pub(crate) fn register<R>(&self, _: R, _: Token, _: Interest) -> io::Result<()> {
        os_required!()
    }

    pub(crate) fn reregister<R>(&self, _: R, _: Token, _: Interest) -> io::Result<()> {
        os_required!()
    }

    pub(crate) fn deregister<R>(&self, _: R) -> io::Result<()> {
        os_required!()
    }
}

#[cfg(unix)]
impl AsRawFd for Selector {
    fn as_raw_fd(&self) -> RawFd {
        os_required!()
    }
}

#[cfg(unix)]
impl AsFd for Selector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        os_required!()
    }
}

#[derive(Debug)]
pub(crate) struct Waker {
    _private: (),
}

impl Waker {
    pub(crate) fn new(_: &Selector, _: Token) -> io::Result<Waker> {
        os_required!()
    }

    pub(crate) fn wake(&self) -> io::Result<()> {
        os_required!()
    }
}

#[derive(Debug)]
pub(crate) struct IoSourceState;

impl IoSourceState {
    pub(crate) fn new() -> IoSourceState {
        IoSourceState
    }

    pub(crate) fn do_io<T, F, R>(&self, _: F, _: &T, _: super::Rearm) -> io::Result<R>
    where
        F: FnOnce(&T) -> io::Result<R>,
    {
        os_required!()
    }

    pub(crate) fn register<R>(
        &mut self,
        _: &Selector,
        _: Token,
        _: Interest,
        _: R,
    ) -> io::Result<()> {
        os_required!()
    }

    pub(crate) fn reregister<R>(
        &mut self,
        _: &Selector,
        _: Token,
        _: Interest,
        _: R,
    ) -> io::Result<()> {
        os_required!()
    }

    pub(crate) fn deregister<R>(&mut self, _: &Selector, _: R) -> io::Result<()> {
        os_required!()
    }
}

pub(crate) mod event {
    use std::fmt;

    use super::Event;
    use crate::Token;

    pub(crate) fn token(_: &Event) -> Token {
        os_required!()
    }

    pub(crate) fn is_readable(_: &Event) -> bool {
        os_required!()
    }

    pub(crate) fn is_writable(_: &Event) -> bool {
        os_required!()
    }

    pub(crate) fn is_error(_: &Event) -> bool {
        os_required!()
    }

    pub(crate) fn is_read_closed(_: &Event) -> bool {
        os_required!()
    }

    pub(crate) fn is_write_closed(_: &Event) -> bool {
        os_required!()
    }

    pub(crate) fn is_priority(_: &Event) -> bool {
        os_required!()
    }

    pub(crate) struct Details<'a>(pub(crate) &'a Event);

    impl fmt::Debug for Details<'_> {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            os_required!()
        }
    }
}
