//! The answer to one call: given to the engine's method, sent once, from any thread. Whatever
//! happens, the host's completion is called exactly once: a reply dropped unsent (the engine
//! forgot it, or panicked while holding it) completes the call as internal.

use crate::ffi::{self, Completion, PieceSink};
use crate::{Contact, EngineError, ErrorKind, Feature};
use serde::Serialize;
use std::collections::HashMap;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// About 200 KB of JSON, as the Swift SDK's pieces: the first leaves at once, and the cost per
/// piece (a call across the ABI) vanishes beside the bytes.
const CONTACTS_PER_PIECE: usize = 1_000;

/// An instance's calls in flight, by completion context: what `cancel` and `resume` look up.
#[derive(Default)]
pub(crate) struct Calls(Mutex<HashMap<usize, Arc<CallState>>>);

impl Calls {
    pub(crate) fn find(&self, context: *mut c_void) -> Option<Arc<CallState>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&(context as usize)).cloned()
    }
}

#[derive(Default)]
pub(crate) struct CallState {
    cancelled: AtomicBool,
    pause: Mutex<Pause>,
}

/// A call in pieces that the host paused, and a `resume` that may come before the pause is
/// recorded (the host resumes as soon as it has drained what it holds).
#[derive(Default)]
enum Pause {
    #[default]
    Running,
    Paused(Pieces),
    ResumedEarly,
}

impl CallState {
    /// The host's `cancel`: a paused call completes now (the host ignores its status); a
    /// running one sees `Reply::is_cancelled`.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
        if let Pause::Paused(pieces) = std::mem::take(&mut *self.pause.lock().unwrap_or_else(|e| e.into_inner())) {
            // From a thread of its own, as `resume` does: the host may be inside a lock of its own.
            std::thread::spawn(move || pieces.call.complete_with(&EngineError::new(ErrorKind::Timeout, "cancelled by the host")));
        }
    }

    /// The host's `resume`: the rest of the pieces go from a thread of their own, since
    /// `resume` must not block.
    pub(crate) fn resume(&self) {
        let mut pause = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::take(&mut *pause) {
            Pause::Paused(pieces) => {
                drop(pause);
                std::thread::spawn(move || pieces.send());
            }
            _ => *pause = Pause::ResumedEarly,
        }
    }
}

/// The host's completion for one call, and the call's entry in `Calls`.
pub(crate) struct Call {
    pub(crate) feature: Feature,
    completion: Completion,
    /// The host's piece sink when it asked with `call_in_pieces`.
    piece: PieceSink,
    context: *mut c_void,
    state: Arc<CallState>,
    calls: Arc<Calls>,
    done: bool,
}

// The completion may be called from any thread (the ABI says so), and the context is the host's
// number for the call, never dereferenced here.
unsafe impl Send for Call {}

impl Call {
    pub(crate) fn start(feature: Feature, completion: Completion, piece: PieceSink, context: *mut c_void, calls: &Arc<Calls>) -> Call {
        let state = Arc::new(CallState::default());
        calls.0.lock().unwrap_or_else(|e| e.into_inner()).insert(context as usize, state.clone());
        Call { feature, completion, piece, context, state, calls: calls.clone(), done: false }
    }

    fn complete(mut self, status: ffi::Status, bytes: &[u8]) {
        self.finish(status, bytes);
    }

    pub(crate) fn complete_with(self, error: &EngineError) {
        self.complete(error.kind as ffi::Status, error.message.as_bytes());
    }

    fn finish(&mut self, status: ffi::Status, bytes: &[u8]) {
        self.done = true;
        // Forgotten first: once completed, the host may give the context to another call.
        self.calls.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&(self.context as usize));
        if let Some(completion) = self.completion {
            unsafe { completion(self.context, status, bytes.as_ptr(), bytes.len()) }
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let message = if std::thread::panicking() {
            format!("the engine panicked in {} (its message is on standard error)", self.feature.id())
        } else {
            format!("the engine dropped its reply to {} without answering", self.feature.id())
        };
        self.finish(ErrorKind::Internal as ffi::Status, message.as_bytes());
    }
}

/// The answer to one call: `send` it once, now or later, from any thread (move it to the thread
/// doing the work). A long task checks `is_cancelled` to stop early when the host no longer
/// needs the answer (the call timed out, or the client went away).
pub struct Reply<T> {
    call: Call,
    deliver: fn(Call, T),
    _result: PhantomData<fn(T)>,
}

impl<T: Serialize> Reply<T> {
    pub(crate) fn whole(call: Call) -> Reply<T> {
        Reply { call, deliver: deliver_whole::<T>, _result: PhantomData }
    }

    pub fn send(self, result: Result<T, EngineError>) {
        match result {
            Ok(value) => (self.deliver)(self.call, value),
            Err(error) => self.call.complete_with(&error),
        }
    }

    pub fn fail(self, error: EngineError) {
        self.send(Err(error))
    }

    /// What every feature method answers by default.
    pub fn not_implemented(self) {
        let feature = self.call.feature;
        self.fail(EngineError::not_implemented(feature))
    }

    /// True once the host has called `cancel` for this call: stop, and send anything (it is ignored).
    pub fn is_cancelled(&self) -> bool {
        self.call.state.cancelled.load(Ordering::Relaxed)
    }
}

impl Reply<Vec<Contact>> {
    /// `contacts.list`: in pieces, with back-pressure, when the host asked with `call_in_pieces`.
    pub(crate) fn list(call: Call) -> Reply<Vec<Contact>> {
        let deliver = if call.piece.is_some() { deliver_in_pieces } else { deliver_whole::<Vec<Contact>> };
        Reply { call, deliver, _result: PhantomData }
    }
}

fn deliver_whole<T: Serialize>(call: Call, value: T) {
    match serde_json::to_vec(&value) {
        Ok(bytes) => call.complete(ffi::STATUS_OK, &bytes),
        Err(error) => call.complete_with(&EngineError::internal(format!("cannot write the result: {error}"))),
    }
}

fn deliver_in_pieces(call: Call, contacts: Vec<Contact>) {
    Pieces { call, contacts, next: 0 }.send()
}

/// A list on its way to the host in pieces: the last one goes in the completion.
pub(crate) struct Pieces {
    call: Call,
    contacts: Vec<Contact>,
    next: usize,
}

impl Pieces {
    /// Sends pieces until the last (in the completion), a pause (`resume` goes on), or a stop.
    fn send(mut self) {
        loop {
            let end = (self.next + CONTACTS_PER_PIECE).min(self.contacts.len());
            let bytes = match serde_json::to_vec(&self.contacts[self.next..end]) {
                Ok(bytes) => bytes,
                Err(error) => return self.call.complete_with(&EngineError::internal(format!("cannot write the result: {error}"))),
            };
            self.next = end;
            if end == self.contacts.len() {
                return self.call.complete(ffi::STATUS_OK, &bytes);
            }
            if self.call.state.cancelled.load(Ordering::Relaxed) {
                return self.call.complete_with(&EngineError::new(ErrorKind::Timeout, "cancelled by the host"));
            }
            let piece = self.call.piece.expect("a call in pieces has a piece sink");
            match unsafe { piece(self.call.context, bytes.as_ptr(), bytes.len()) } {
                ffi::PIECE_MORE => continue,
                ffi::PIECE_PAUSE => {
                    let state = self.call.state.clone();
                    let mut pause = state.pause.lock().unwrap_or_else(|e| e.into_inner());
                    if matches!(*pause, Pause::ResumedEarly) {
                        *pause = Pause::Running;
                        continue;
                    }
                    // A `cancel` that came before this lock found nothing paused: complete now.
                    if state.cancelled.load(Ordering::Relaxed) {
                        drop(pause);
                        return self.call.complete_with(&EngineError::new(ErrorKind::Timeout, "cancelled by the host"));
                    }
                    *pause = Pause::Paused(self);
                    return;
                }
                _ => return self.call.complete_with(&EngineError::new(ErrorKind::Timeout, "stopped by the host")),
            }
        }
    }
}
