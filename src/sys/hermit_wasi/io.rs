//! Reading a socket: through std's `Read for &T`, which on Hermit and WASI is read(2) (or
//! WASI's `fd_read`) on the fd, writing into the buffer only.

use std::io::{self, IoSliceMut, Read};

#[inline]
pub(crate) fn read<T>(io: &T, buf: &mut [u8]) -> io::Result<usize>
where
    for<'a> &'a T: Read,
{
    let mut io = io;
    io.read(buf)
}

#[inline]
pub(crate) fn read_vectored<T>(io: &T, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>
where
    for<'a> &'a T: Read,
{
    let mut io = io;
    io.read_vectored(bufs)
}
