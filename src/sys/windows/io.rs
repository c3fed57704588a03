//! The read side of the socket types' `Read` impls (`impl_read!`): `recv`/`WSARecv`.

use std::io::{self, IoSliceMut};
use std::os::windows::io::AsSocket;

/// `recv` into `buf`; only writes into it.
#[inline]
pub(crate) fn read(socket: impl AsSocket, buf: &mut [u8]) -> io::Result<usize> {
    super::net::recv(socket, buf, false)
}

/// `WSARecv` into `bufs`.
#[inline]
pub(crate) fn read_vectored(
    socket: impl AsSocket,
    bufs: &mut [IoSliceMut<'_>],
) -> io::Result<usize> {
    super::net::recv_vectored(socket, bufs)
}
