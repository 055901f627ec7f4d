//! Waiting for either of two descriptors to become readable: the client's
//! reader thread watches its socket and a wake-up pipe, so that a caller
//! can take the socket over to read its own response (std has no `poll`).

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

/// Which of the two became readable (or hung up, or failed: a read then
/// tells which). Both false when `timeout` passed or a signal came.
pub struct Readable {
    pub first: bool,
    pub second: bool,
}

/// Waits until `first` or `second` is readable, at most `timeout` (`None`:
/// without limit; rounded up to whole milliseconds).
// The one unsafe call of the eventer client: libc's poll on two pollfd
// records that live on this stack frame for the whole call.
#[allow(unsafe_code)]
pub fn wait_readable(first: &impl AsFd, second: &impl AsFd, timeout: Option<Duration>) -> io::Result<Readable> {
    let record = |fd: &dyn AsFd| libc::pollfd { fd: fd.as_fd().as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let mut fds = [record(first), record(second)];
    let ms = match timeout {
        None => -1,
        Some(t) => libc::c_int::try_from(t.as_nanos().div_ceil(1_000_000)).unwrap_or(libc::c_int::MAX),
    };
    // SAFETY: `fds` is a valid, writable array of 2 pollfd records for the
    // duration of the call, and its length is passed as nfds; the
    // descriptors are borrowed (AsFd), so they stay open during the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(Readable { first: false, second: false });
        }
        return Err(e);
    }
    Ok(Readable { first: fds[0].revents != 0, second: fds[1].revents != 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn tells_which_descriptor_is_readable_and_times_out() {
        let (a, mut a_peer) = UnixStream::pair().unwrap();
        let (b, mut b_peer) = UnixStream::pair().unwrap();
        let r = wait_readable(&a, &b, Some(Duration::from_millis(5))).unwrap();
        assert!(!r.first && !r.second);
        b_peer.write_all(b"x").unwrap();
        let r = wait_readable(&a, &b, None).unwrap();
        assert!(!r.first && r.second);
        a_peer.write_all(b"x").unwrap();
        let r = wait_readable(&a, &b, None).unwrap();
        assert!(r.first && r.second);
    }
}
