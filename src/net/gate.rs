//! A first-come, first-served limit on how many requests are in flight (single-threaded: wasm).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Debug)]
struct State {
    free: Cell<usize>,
    next_ticket: Cell<u64>,
    queue: RefCell<VecDeque<(u64, Option<Waker>)>>,
}

/// Lets at most `limit` holders of a [`Permit`] exist at once; the rest wait in order.
#[derive(Debug, Clone)]
pub struct Gate(Rc<State>);

/// Returned to the gate when dropped, which lets the next waiter in.
#[derive(Debug)]
pub struct Permit(Rc<State>);

impl Gate {
    pub fn new(limit: usize) -> Gate {
        Gate(Rc::new(State {
            free: Cell::new(limit.max(1)),
            next_ticket: Cell::new(0),
            queue: RefCell::new(VecDeque::new()),
        }))
    }

    /// Requests waiting for a permit.
    pub fn waiting(&self) -> usize {
        self.0.queue.borrow().len()
    }

    pub fn available(&self) -> usize {
        self.0.free.get()
    }

    pub fn acquire(&self) -> Acquire {
        let ticket = self.0.next_ticket.get();
        self.0.next_ticket.set(ticket + 1);
        self.0.queue.borrow_mut().push_back((ticket, None));
        Acquire { state: self.0.clone(), ticket, done: false }
    }
}

/// Waits for a permit; dropping it leaves the queue.
pub struct Acquire {
    state: Rc<State>,
    ticket: u64,
    done: bool,
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let state = self.state.clone();
        let mut queue = state.queue.borrow_mut();
        let first = queue.front().map(|(t, _)| *t) == Some(self.ticket);
        if first && state.free.get() > 0 {
            queue.pop_front();
            state.free.set(state.free.get() - 1);
            self.done = true;
            return Poll::Ready(Permit(state.clone()));
        }
        if let Some(entry) = queue.iter_mut().find(|(t, _)| *t == self.ticket) {
            entry.1 = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        if !self.done {
            let mut queue = self.state.queue.borrow_mut();
            let was_first = queue.front().map(|(t, _)| *t) == Some(self.ticket);
            queue.retain(|(t, _)| *t != self.ticket);
            if was_first {
                wake_front(&queue);
            }
        }
    }
}

fn wake_front(queue: &VecDeque<(u64, Option<Waker>)>) {
    if let Some((_, Some(waker))) = queue.front() {
        waker.wake_by_ref();
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.free.set(self.0.free.get() + 1);
        wake_front(&self.0.queue.borrow());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    struct Flag(Cell<bool>);
    // Tests are single-threaded; the waker only records that it was called.
    unsafe impl Send for Flag {}
    unsafe impl Sync for Flag {}
    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.set(true);
        }
    }

    fn poll(f: &mut Acquire, flag: &std::sync::Arc<Flag>) -> Option<Permit> {
        let waker = Waker::from(flag.clone());
        match Pin::new(f).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(p) => Some(p),
            Poll::Pending => None,
        }
    }

    #[test]
    fn at_most_limit_permits_then_first_come_first_served() {
        let gate = Gate::new(2);
        let flag = std::sync::Arc::new(Flag(Cell::new(false)));
        let (mut a, mut b, mut c, mut d) = (gate.acquire(), gate.acquire(), gate.acquire(), gate.acquire());
        let pa = poll(&mut a, &flag).expect("first permit");
        let _pb = poll(&mut b, &flag).expect("second permit");
        assert!(poll(&mut d, &flag).is_none(), "d queued behind c");
        assert!(poll(&mut c, &flag).is_none());
        assert_eq!(gate.waiting(), 2);
        flag.0.set(false);
        drop(pa);
        assert!(flag.0.get(), "releasing wakes the next waiter");
        assert!(poll(&mut d, &flag).is_none(), "d may not overtake c");
        assert!(poll(&mut c, &flag).is_some());
    }

    #[test]
    fn a_dropped_waiter_leaves_the_queue() {
        let gate = Gate::new(1);
        let flag = std::sync::Arc::new(Flag(Cell::new(false)));
        let (mut a, mut b, mut c) = (gate.acquire(), gate.acquire(), gate.acquire());
        let pa = poll(&mut a, &flag).expect("permit");
        assert!(poll(&mut b, &flag).is_none());
        assert!(poll(&mut c, &flag).is_none());
        drop(b);
        drop(pa);
        assert!(poll(&mut c, &flag).is_some());
        assert_eq!(gate.waiting(), 0);
    }
}
