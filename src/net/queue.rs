//! A single-threaded async queue: callbacks (WebSocket events, push events) push, one task awaits.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

struct Inner<T> {
    items: VecDeque<T>,
    waker: Option<Waker>,
    closed: bool,
}

pub struct LocalQueue<T>(Rc<RefCell<Inner<T>>>);

impl<T> Clone for LocalQueue<T> {
    fn clone(&self) -> Self {
        LocalQueue(self.0.clone())
    }
}

impl<T> Default for LocalQueue<T> {
    fn default() -> Self {
        LocalQueue(Rc::new(RefCell::new(Inner { items: VecDeque::new(), waker: None, closed: false })))
    }
}

impl<T> LocalQueue<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, item: T) {
        let mut inner = self.0.borrow_mut();
        if inner.closed {
            return;
        }
        inner.items.push_back(item);
        if let Some(w) = inner.waker.take() {
            w.wake();
        }
    }

    /// After closing, `next` drains what is left and then returns `None`.
    pub fn close(&self) {
        let mut inner = self.0.borrow_mut();
        inner.closed = true;
        if let Some(w) = inner.waker.take() {
            w.wake();
        }
    }

    pub fn len(&self) -> usize {
        self.0.borrow().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The next item if one is waiting, without waiting.
    pub fn try_next(&self) -> Option<T> {
        self.0.borrow_mut().items.pop_front()
    }

    pub async fn next(&self) -> Option<T> {
        poll_fn(|cx| {
            let mut inner = self.0.borrow_mut();
            if let Some(item) = inner.items.pop_front() {
                return Poll::Ready(Some(item));
            }
            if inner.closed {
                return Poll::Ready(None);
            }
            inner.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};

    #[test]
    fn delivers_in_order_then_ends_after_close() {
        let q = LocalQueue::new();
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        {
            let mut first = pin!(q.next());
            assert!(first.as_mut().poll(&mut cx).is_pending());
            q.push(1);
            assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(Some(1)));
        }
        q.push(2);
        q.push(3);
        q.close();
        q.push(4);
        for want in [Some(2), Some(3), None] {
            let mut next = pin!(q.next());
            assert_eq!(next.as_mut().poll(&mut cx), Poll::Ready(want));
        }
    }
}
