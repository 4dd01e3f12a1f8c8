//! Connection lines rendered ahead, on the decoding thread.
//!
//! With two threads ([`crate::pipeline::Options::threads`]) the analysing thread is the slower
//! one: the decoding thread spends most of its time waiting for room in the batch queue. A
//! reporter whose output for a connection is a function of the record alone
//! ([`Reporter::render`](crate::report::Reporter::render): JSON lines) has that output made
//! there instead. The analysing thread hands each finished record over ([`Ahead::submit`]); the
//! decoding thread renders the records it finds waiting before it hands over each batch, while
//! it waits for room, and after the capture ends; the analysing thread takes them back,
//! rendered, and writes them ([`Ahead::take`]). Writing stays on the analysing thread: the
//! report's writer, the progress bar beside it and the tally are not shared.
//!
//! Order: one renderer takes the records in the order they were handed over and gives them
//! back in that order, and the analysing thread writes them in the order it takes them back.
//!
//! Memory: at most [`AHEAD_RECORDS`] records are handed over and not written; past that, the
//! analysing thread writes (waiting for the renderer) before it goes on. As many emptied output
//! buffers of up to 64 KiB are kept for the renderer to fill again.
//!
//! Neither thread waits for the other without a way out. The decoding thread waits for room in
//! the batch queue only while no record waits to be rendered, and wakes when one is handed
//! over, when a batch is taken or when the analysing thread stops taking batches
//! ([`Ahead::hang_up`]). The analysing thread waits for a rendered record only while the
//! renderer has one to render, and wakes when it is rendered or when the renderer has left
//! (after a panic: the analysing thread then renders what is left itself). Either side
//! leaving, normally or by a panic, says so and wakes the other ([`Leaving`], [`HangUp`]).

use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::capture::CaptureSummary;
use crate::record::ConnectionRecord;
use crate::report::Render;

/// Records handed over and not yet written, at most.
pub const AHEAD_RECORDS: usize = 64;

/// Output buffers larger than this are not kept for reuse.
const SPARE_CAPACITY: usize = 64 * 1024;

/// A record and its rendered output (or the error rendering it).
pub type Rendered = (Box<ConnectionRecord>, io::Result<Vec<u8>>);

/// The meeting point of the analysing thread and the renderer (see the module doc).
#[derive(Debug)]
pub struct Ahead {
    render: Render,
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Handed over, waiting for the renderer, oldest first.
    todo: VecDeque<Box<ConnectionRecord>>,
    /// The renderer holds a record: taken from `todo`, not yet in `done`.
    busy: bool,
    /// Rendered, waiting to be written, oldest first.
    done: VecDeque<Rendered>,
    /// Emptied output buffers, for the renderer to fill again.
    spare: Vec<Vec<u8>>,
    /// Batches taken by the analysing thread: a renderer waiting for room in the batch queue
    /// wakes when this changes.
    taken: u64,
    /// The analysing thread takes no more batches.
    hung_up: bool,
    /// No more records will be handed over.
    closed: bool,
    /// The renderer has left.
    gone: bool,
    /// The capture's summary, once the decoding thread has read it all.
    summary: Option<CaptureSummary>,
}

impl Ahead {
    /// A meeting point for records rendered by `render`.
    pub fn new(render: Render) -> Self {
        Ahead {
            render,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        }
    }

    /// The state, whatever a panicking thread left it as (every change is a whole one).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'g>(&self, st: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        self.wake.wait(st).unwrap_or_else(PoisonError::into_inner)
    }

    // The analysing thread's side.

    /// Hands `rec` over to be rendered; returns how many records are handed over and not yet
    /// taken back.
    pub fn submit(&self, rec: Box<ConnectionRecord>) -> usize {
        let mut st = self.lock();
        st.todo.push_back(rec);
        self.wake.notify_all();
        st.todo
            .len()
            .saturating_add(st.done.len())
            .saturating_add(usize::from(st.busy))
    }

    /// The oldest record handed over, rendered; `used` is an output buffer written and done
    /// with, for the renderer to fill again. With `wait`, waits for the renderer while it has
    /// records to render (or renders them here, once it has left); `None` when nothing handed
    /// over is left (without `wait`: nothing rendered yet).
    pub fn take(&self, used: Option<Vec<u8>>, wait: bool) -> Option<Rendered> {
        let mut st = self.lock();
        if let Some(mut buf) = used {
            // A line grown by a long timeline is let go rather than kept.
            if st.spare.len() < AHEAD_RECORDS && buf.capacity() <= SPARE_CAPACITY {
                buf.clear();
                st.spare.push(buf);
            }
        }
        loop {
            if let Some(done) = st.done.pop_front() {
                return Some(done);
            }
            if !wait {
                return None;
            }
            if st.gone {
                let rec = st.todo.pop_front()?;
                drop(st);
                let mut out = Vec::new();
                let result = (self.render)(&rec, &mut out).map(|()| out);
                return Some((rec, result));
            }
            if st.todo.is_empty() && !st.busy {
                return None;
            }
            st = self.wait(st);
        }
    }

    /// The analysing thread has taken a batch: room in the queue.
    pub fn batch_taken(&self) {
        let mut st = self.lock();
        st.taken = st.taken.wrapping_add(1);
        self.wake.notify_all();
    }

    /// The analysing thread takes no more batches (it has them all, or it stopped).
    pub fn hang_up(&self) {
        let mut st = self.lock();
        st.hung_up = true;
        self.wake.notify_all();
    }

    /// No more records will be handed over: the renderer leaves once it has rendered the rest.
    pub fn close(&self) {
        let mut st = self.lock();
        st.hung_up = true;
        st.closed = true;
        self.wake.notify_all();
    }

    /// The capture's summary, once the decoding thread has read it all; `None` if it left
    /// without one (it panicked).
    pub fn summary(&self) -> Option<CaptureSummary> {
        let mut st = self.lock();
        loop {
            if let Some(summary) = st.summary.take() {
                return Some(summary);
            }
            if st.gone {
                return None;
            }
            st = self.wait(st);
        }
    }

    // The renderer's side (the decoding thread).

    /// Renders the oldest waiting record, if there is one; `false` if there was none. Called
    /// with the lock held, which it lets go while rendering.
    fn render_one<'g>(&'g self, mut st: MutexGuard<'g, State>) -> (MutexGuard<'g, State>, bool) {
        let Some(rec) = st.todo.pop_front() else {
            return (st, false);
        };
        st.busy = true;
        let mut out = st.spare.pop().unwrap_or_default();
        drop(st);
        let result = (self.render)(&rec, &mut out).map(|()| out);
        let mut st = self.lock();
        st.busy = false;
        st.done.push_back((rec, result));
        self.wake.notify_all();
        (st, true)
    }

    /// Renders the waiting records, and those handed over later, until `done` holds of the
    /// state once none is waiting; waits for either in between.
    fn render_until(&self, done: impl Fn(&State) -> bool) {
        let mut st = self.lock();
        loop {
            let (next, rendered) = self.render_one(st);
            st = next;
            if rendered {
                continue;
            }
            if done(&st) {
                return;
            }
            st = self.wait(st);
        }
    }

    /// Renders every record waiting now.
    pub fn render_waiting(&self) {
        self.render_until(|_| true);
    }

    /// How many batches the analysing thread has taken so far.
    pub fn taken(&self) -> u64 {
        self.lock().taken
    }

    /// Renders waiting records until the analysing thread has taken a batch since `seen` was
    /// read (or takes no more), waiting for either when there are none.
    pub fn render_until_taken(&self, seen: u64) {
        self.render_until(|st| st.taken != seen || st.hung_up);
    }

    /// The capture's summary, for [`Ahead::summary`].
    pub fn hand_summary(&self, summary: CaptureSummary) {
        let mut st = self.lock();
        st.summary = Some(summary);
        self.wake.notify_all();
    }

    /// Renders records as they are handed over, until [`Ahead::close`] and none is left.
    pub fn serve(&self) {
        self.render_until(|st| st.closed);
    }
}

/// Held by the renderer: when it is dropped (the thread ends, or unwinds from a panic), the
/// analysing thread is told the renderer has left.
#[derive(Debug)]
pub struct Leaving<'a>(pub &'a Ahead);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.gone = true;
        self.0.wake.notify_all();
    }
}

/// Held by the analysing thread while the decoding thread runs: when it is dropped (normally,
/// or unwinding from a panic), the decoding thread is told that no batch will be taken and no
/// record handed over any more, so that it does not wait for either.
#[derive(Debug)]
pub struct HangUp<'a>(pub &'a Ahead);

impl Drop for HangUp<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A real record (the connection of `samples/tls-ok.pcap`), numbered `id`.
    fn record(id: u64) -> Box<ConnectionRecord> {
        static ONE: std::sync::OnceLock<ConnectionRecord> = std::sync::OnceLock::new();
        let one = ONE.get_or_init(|| {
            let bytes = crate::decoder::tests::sample("tls-ok.pcap");
            let mut keep = crate::pipeline::tests::Kept::default();
            let options = crate::pipeline::Options::new(&[]);
            let mut run = crate::pipeline::RunState::default();
            crate::pipeline::analyze("tls-ok", &bytes[..], &options, &mut run, &mut keep).unwrap();
            keep.0.remove(0)
        });
        let mut rec = Box::new(one.clone());
        rec.id = id;
        rec
    }

    fn by_id(rec: &ConnectionRecord, out: &mut Vec<u8>) -> io::Result<()> {
        out.extend_from_slice(format!("{}\n", rec.id).as_bytes());
        Ok(())
    }

    static PANIC_AT_7: AtomicBool = AtomicBool::new(true);

    fn panics_at_7(rec: &ConnectionRecord, out: &mut Vec<u8>) -> io::Result<()> {
        if rec.id == 7 && PANIC_AT_7.swap(false, Ordering::SeqCst) {
            panic!("renderer test panic");
        }
        by_id(rec, out)
    }

    /// Hands `n` records over as `pipeline` does (never more than AHEAD_RECORDS outstanding)
    /// and returns what came back, in order.
    fn hand_over(ahead: &Ahead, n: u64) -> Vec<String> {
        let mut got = Vec::new();
        let mut used = None;
        let mut write = |r: Rendered, used: &mut Option<Vec<u8>>| {
            let (rec, out) = r;
            let out = out.unwrap();
            assert_eq!(out, format!("{}\n", rec.id).into_bytes());
            got.push(String::from_utf8(out.clone()).unwrap());
            *used = Some(out);
        };
        for id in 0..n {
            while let Some(r) = ahead.take(used.take(), false) {
                write(r, &mut used);
            }
            let outstanding = ahead.submit(record(id));
            assert!(outstanding <= AHEAD_RECORDS + 1, "{outstanding}");
            if outstanding > AHEAD_RECORDS {
                let r = ahead.take(used.take(), true).unwrap();
                write(r, &mut used);
            }
        }
        ahead.close();
        while let Some(r) = ahead.take(used.take(), true) {
            write(r, &mut used);
        }
        got
    }

    #[test]
    fn records_come_back_rendered_in_the_order_handed_over() {
        let ahead = Ahead::new(by_id);
        let got = std::thread::scope(|scope| {
            scope.spawn(|| {
                let _leaving = Leaving(&ahead);
                ahead.serve();
            });
            hand_over(&ahead, 5_000)
        });
        let want: Vec<String> = (0..5_000).map(|id| format!("{id}\n")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_renderer_that_panics_leaves_the_rest_to_the_analysing_thread() {
        let ahead = Ahead::new(panics_at_7);
        let (got, joined) = std::thread::scope(|scope| {
            let renderer = scope.spawn(|| {
                let _leaving = Leaving(&ahead);
                ahead.serve();
            });
            let got = hand_over_tolerant(&ahead, 200);
            (got, renderer.join())
        });
        assert!(joined.is_err());
        // Record 7 was lost with the renderer's panic (the run passes the panic on); every
        // other one came back, in order.
        let want: Vec<u64> = (0..200).filter(|id| *id != 7).collect();
        assert_eq!(got, want);
    }

    /// As `hand_over`, keeping only the ids.
    fn hand_over_tolerant(ahead: &Ahead, n: u64) -> Vec<u64> {
        let mut got = Vec::new();
        for id in 0..n {
            while let Some((rec, _)) = ahead.take(None, false) {
                got.push(rec.id);
            }
            if ahead.submit(record(id)) > AHEAD_RECORDS {
                if let Some((rec, _)) = ahead.take(None, true) {
                    got.push(rec.id);
                }
            }
        }
        ahead.close();
        while let Some((rec, _)) = ahead.take(None, true) {
            got.push(rec.id);
        }
        got
    }

    #[test]
    fn a_renderer_waiting_for_room_wakes_for_a_record_a_batch_or_a_hang_up() {
        let ahead = &Ahead::new(by_id);
        std::thread::scope(|scope| {
            // Waits for a batch to be taken; renders the record handed over meanwhile.
            let seen = ahead.taken();
            let waiting = scope.spawn(move || ahead.render_until_taken(seen));
            ahead.submit(record(1));
            let (rec, out) = ahead.take(None, true).unwrap();
            assert_eq!((rec.id, out.unwrap()), (1, b"1\n".to_vec()));
            ahead.batch_taken();
            waiting.join().unwrap();
            // Nobody takes batches any more.
            let seen = ahead.taken();
            let waiting = scope.spawn(move || ahead.render_until_taken(seen));
            {
                let _hang_up = HangUp(ahead);
            }
            waiting.join().unwrap();
        });
    }
}
