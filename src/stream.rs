//! A socket's messages as a [`futures_core::Stream`], for async Rust (feature `stream`).
//!
//! Backpressure: the stream holds at most `capacity` messages that the consumer has not taken.
//! The server does not wait for a slow consumer (WebSocket has no flow control a page can use),
//! so when a message arrives with the buffer full, the **oldest** buffered one is dropped and
//! counted; the consumer's next item is then `Err(SocketError::Lagged(n))`, saying how many it
//! missed, followed by the newest messages. The stream ends when the connection closes for good
//! (`close()`, `max_retries`, `should_reconnect` saying no) or the [`crate::Socket`] is dropped.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::rust_api::SocketError;

/// The trait [`Messages`] implements (from `futures-core`), re-exported for callers without a
/// direct dependency.
pub use futures_core::Stream;

/// What the socket's callbacks fill and the stream drains.
pub(crate) struct Queue<T> {
    items: VecDeque<Result<T, SocketError>>,
    capacity: usize,
    /// Dropped for lack of room and not yet reported.
    missed: u64,
    waker: Option<Waker>,
    ended: bool,
}

impl<T> Queue<T> {
    pub(crate) fn new(capacity: usize) -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Queue {
            items: VecDeque::new(),
            capacity: capacity.max(1),
            missed: 0,
            waker: None,
            ended: false,
        }))
    }

    pub(crate) fn push(&mut self, item: Result<T, SocketError>) {
        if self.ended {
            return;
        }
        if self.items.len() == self.capacity {
            self.items.pop_front();
            self.missed += 1;
        }
        self.items.push_back(item);
        self.wake();
    }

    pub(crate) fn end(&mut self) {
        self.ended = true;
        self.wake();
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The messages of a [`crate::Socket`], decoded into `T`: made by
/// [`crate::SocketBuilder::connect_stream`]. See the module docs for backpressure.
pub struct Messages<T> {
    queue: Rc<RefCell<Queue<T>>>,
}

impl<T> Messages<T> {
    pub(crate) fn new(queue: Rc<RefCell<Queue<T>>>) -> Self {
        Messages { queue }
    }

    /// Messages received and not yet taken.
    pub fn buffered(&self) -> usize {
        self.queue.borrow().items.len()
    }

    /// Messages dropped for lack of room and not yet reported by a `Lagged` item.
    pub fn missed(&self) -> u64 {
        self.queue.borrow().missed
    }
}

impl<T> Stream for Messages<T> {
    type Item = Result<T, SocketError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut q = self.queue.borrow_mut();
        if q.missed > 0 {
            let n = std::mem::take(&mut q.missed);
            return Poll::Ready(Some(Err(SocketError::Lagged(n))));
        }
        if let Some(item) = q.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if q.ended {
            return Poll::Ready(None);
        }
        q.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
