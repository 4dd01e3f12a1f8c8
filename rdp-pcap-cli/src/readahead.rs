//! Reading a file on a second thread while the first one analyses what was read.
//!
//! The kernel's copy of a file from the page cache (`read`) is about a fifth of the time of an
//! analysis; [`ReadAhead`] moves it to a reader thread that fills fixed-size chunks and hands
//! them over a bounded channel, so the copy overlaps the analysis. Memory: chunks of
//! [`CHUNK_SIZE`] bytes, [`CHUNKS`] queued, one being filled, one being read, and at most
//! `CHUNKS + 2` used ones kept for reuse: 8 MiB at most (about 5 MiB measured).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes per chunk.
pub const CHUNK_SIZE: usize = 1024 * 1024;
/// Chunks filled ahead of the reader (plus one being read and one being filled).
pub const CHUNKS: usize = 2;

/// A `Read` whose bytes come from a thread reading `inner` ahead.
///
/// Errors of `inner` are passed on in order, after the bytes read before them; the thread
/// stops at the end of the input, at an error, or when the `ReadAhead` is dropped.
pub struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ReadAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAhead")
            .field("pos", &self.pos)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Bounded retries of a read that says "interrupted", so a broken reader cannot spin forever.
const MAX_INTERRUPTS: u32 = 1000;

/// Fills `buf` from `inner` until it is full, the input ends or a read fails; returns how
/// many bytes it holds, and the error that stopped it.
fn fill(inner: &mut impl Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0usize;
    let mut interrupts = 0u32;
    while let Some(space) = buf.get_mut(filled..).filter(|s| !s.is_empty()) {
        match inner.read(space) {
            Ok(0) => break,
            Ok(n) => filled = filled.saturating_add(n.min(space.len())),
            Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupts < MAX_INTERRUPTS => {
                interrupts = interrupts.saturating_add(1);
            }
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

impl ReadAhead {
    /// Starts the reader thread on `inner`. Errors only when the thread cannot be started
    /// (`inner` is then dropped; the caller may open its input again and read it itself).
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<Self> {
        let (chunk_tx, chunk_rx) = sync_channel::<io::Result<Vec<u8>>>(CHUNKS);
        let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(CHUNKS.saturating_add(2));
        let thread = std::thread::Builder::new()
            .name("rdp-pcap-read".into())
            .spawn(move || loop {
                let mut buf = spare_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CHUNK_SIZE));
                buf.resize(CHUNK_SIZE, 0);
                let (n, error) = fill(&mut inner, &mut buf);
                buf.truncate(n);
                // A short chunk is the last one: the input ended or failed after it.
                let last = n < CHUNK_SIZE;
                if (n > 0 || error.is_none()) && chunk_tx.send(Ok(buf)).is_err() {
                    return;
                }
                if let Some(e) = error {
                    let _ = chunk_tx.send(Err(e));
                }
                if last {
                    return;
                }
            })?;
        Ok(ReadAhead {
            chunks: chunk_rx,
            spare: spare_tx,
            current: Vec::new(),
            pos: 0,
            done: false,
            thread: Some(thread),
        })
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    let old = std::mem::replace(&mut self.current, chunk);
                    let _ = self.spare.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread has finished (after its last, short chunk): the end of input.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let available = self.current.get(self.pos..).unwrap_or_default();
        let n = available.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos = self.pos.saturating_add(n);
        Ok(n)
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // Unblock the thread (its send fails once the receiver is gone) and wait for it.
        let (_, dead) = sync_channel(0);
        drop(std::mem::replace(&mut self.chunks, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect()
    }

    /// Reads everything with reads of `step` bytes.
    fn read_all(mut r: impl Read, step: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn same_bytes_whatever_the_sizes() {
        for len in [
            0,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE + 5,
        ] {
            let data = pattern(len);
            for step in [1000, 65536, CHUNK_SIZE + 7] {
                let r = ReadAhead::new(io::Cursor::new(data.clone())).unwrap();
                assert_eq!(read_all(r, step).unwrap(), data, "len {len} step {step}");
            }
        }
    }

    /// Hands out `ok` bytes, then fails.
    struct Failing {
        data: io::Cursor<Vec<u8>>,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.data.read(buf)? {
                0 => Err(io::Error::other("disk on fire")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn bytes_before_an_error_come_first() {
        for len in [0, 10, CHUNK_SIZE, CHUNK_SIZE + 10] {
            let data = pattern(len);
            let mut r = ReadAhead::new(Failing {
                data: io::Cursor::new(data.clone()),
            })
            .unwrap();
            let mut got = vec![0u8; len];
            r.read_exact(&mut got).unwrap();
            assert_eq!(got, data);
            let e = r.read(&mut [0u8; 16]).unwrap_err();
            assert_eq!(e.to_string(), "disk on fire");
            assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0);
        }
    }

    #[test]
    fn dropping_early_stops_the_thread() {
        let mut r = ReadAhead::new(io::repeat(7)).unwrap();
        let mut buf = [0u8; 100];
        r.read_exact(&mut buf).unwrap();
        assert!(buf.iter().all(|b| *b == 7));
        drop(r); // joins the thread, which is blocked sending an endless input
    }
}
