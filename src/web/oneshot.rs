//! A value handed once from one task to another on this thread (the outbox's writer to a
//! waiting write, an in-page claim to the next waiter): no channel crate for ~50 lines.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A sender and its receiver; the receiver gives `None` if the sender drops without sending.
pub fn oneshot<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Rc::new(RefCell::new(Slot {
        value: None,
        waker: None,
        closed: false,
    }));
    (Sender(slot.clone()), Receiver(slot))
}

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    closed: bool,
}

pub struct Sender<T>(Rc<RefCell<Slot<T>>>);

impl<T> Sender<T> {
    /// Hands `value` over; dropping the sender then wakes the receiver.
    pub fn send(self, value: T) {
        self.0.borrow_mut().value = Some(value);
    }

    /// Whether the receiver still exists (nobody gave up waiting).
    pub fn is_awaited(&self) -> bool {
        Rc::strong_count(&self.0) > 1
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.0.borrow_mut();
            slot.closed = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

pub struct Receiver<T>(Rc<RefCell<Slot<T>>>);

impl<T> Future for Receiver<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.0.borrow_mut();
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
