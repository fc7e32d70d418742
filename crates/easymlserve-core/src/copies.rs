//! `ModelCopies`: serving a model that is not thread-safe on several workers, one copy per worker.
//!
//! `Service::process` takes `&self` and runs on every worker thread at once. A model whose predict
//! needs `&mut self`, or holds scratch buffers or a foreign handle that must not be shared, is loaded
//! several times instead and each call borrows a copy no other call is using. Size the server's
//! `workers` to the number of copies: more workers would only wait for a copy, fewer leave copies idle.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

/// Several copies of a model, each used by one call at a time.
///
/// ```
/// use easymlserve_core::ModelCopies;
///
/// struct Counter(u64); // predict mutates: not shareable between threads
/// let copies = ModelCopies::new((0..2).map(|_| Counter(0)).collect());
/// let seen = copies.with(|model| {
///     model.0 += 1;
///     model.0
/// });
/// assert_eq!(seen, 1);
/// assert_eq!(copies.len(), 2);
/// ```
#[derive(Debug)]
pub struct ModelCopies<M> {
    copies: Vec<Mutex<M>>,
    next: AtomicUsize,
}

impl<M> ModelCopies<M> {
    /// Wraps the loaded copies.
    ///
    /// # Panics
    /// If `copies` is empty: a service with no model cannot answer anything.
    pub fn new(copies: Vec<M>) -> Self {
        assert!(!copies.is_empty(), "ModelCopies needs at least one copy");
        Self {
            copies: copies.into_iter().map(Mutex::new).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Number of copies.
    pub fn len(&self) -> usize {
        self.copies.len()
    }

    /// Always false: there is at least one copy.
    pub fn is_empty(&self) -> bool {
        self.copies.is_empty()
    }

    /// Runs `f` on a copy no other call is using, waiting for one when all are busy.
    ///
    /// A copy whose user panicked is handed out again: the panic failed that request only, and a
    /// model that can be left half-updated by a panic should restore itself at the start of `f`.
    pub fn with<R>(&self, f: impl FnOnce(&mut M) -> R) -> R {
        let mut guard = self.acquire();
        f(&mut guard)
    }

    fn acquire(&self) -> MutexGuard<'_, M> {
        let n = self.copies.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for offset in 0..n {
            match self.copies[(start + offset) % n].try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        // All busy: wait on the copy this call would have started with.
        self.copies[start].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Barrier};

    use super::*;

    /// A model that notices when two calls use it at once.
    #[derive(Default)]
    struct Exclusive {
        busy: AtomicBool,
        calls: usize,
    }

    #[test]
    fn no_copy_is_used_by_two_calls_at_once() {
        let copies = Arc::new(ModelCopies::new(vec![Exclusive::default(), Exclusive::default()]));
        let threads = 6;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (copies, start) = (Arc::clone(&copies), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..200 {
                        copies.with(|model| {
                            assert!(!model.busy.swap(true, Ordering::SeqCst), "a copy was shared");
                            model.calls += 1;
                            std::thread::yield_now();
                            model.busy.store(false, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("a caller panicked");
        }
        let calls: Vec<usize> = copies.copies.iter().map(|m| m.lock().map_or(0, |m| m.calls)).collect();
        assert_eq!(calls.iter().sum::<usize>(), threads * 200, "{calls:?}");
        assert!(calls.iter().all(|n| *n > 0), "both copies did work: {calls:?}");
    }

    #[test]
    fn a_panic_fails_one_call_and_the_copy_stays_usable() {
        let copies = ModelCopies::new(vec![0u32]);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            copies.with(|_| panic!("boom"));
        }));
        assert!(result.is_err());
        assert_eq!(copies.with(|m| *m + 1), 1);
    }
}
