//! Windows-only extensions (feature `os-ext`): [`NamedPipe`].
//!
//! The rest of mio works on Windows as on Unix, through one I/O completion port per
//! [`Poll`](crate::Poll): sockets get their readiness from the AFD driver's poll requests (the
//! mechanism beneath `WSAPoll`), edge-triggered as on Linux; see the crate docs' platform
//! table for what differs.

mod named_pipe;

pub use self::named_pipe::NamedPipe;
