//! Unix-only extensions: [`SourceFd`] to register any file descriptor, and [`pipe`].

pub use crate::source_fd::SourceFd;

pub mod pipe;
