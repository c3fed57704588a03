//! Unix-only extensions: [`SourceFd`] to register any file descriptor, and [`pipe`].

mod source_fd;
pub use self::source_fd::SourceFd;

pub mod pipe;
