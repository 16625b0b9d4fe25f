//! A value built on first use and shared by every clone: the adapters' SDK clients that a
//! function may never need (alerts, SES) cost nothing at a cold start.
use std::sync::{Arc, LazyLock};

type Build<T> = Box<dyn FnOnce() -> T + Send>;

pub struct OnFirstUse<T>(Arc<LazyLock<T, Build<T>>>);

impl<T> OnFirstUse<T> {
    pub fn new(build: impl FnOnce() -> T + Send + 'static) -> Self {
        Self(Arc::new(LazyLock::new(Box::new(build) as Build<T>)))
    }

    /// Already built.
    pub fn ready(value: T) -> Self
    where
        T: Send + 'static,
    {
        Self::new(move || value)
    }
}

impl<T> Clone for OnFirstUse<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> std::ops::Deref for OnFirstUse<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::OnFirstUse;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[test]
    fn built_once_on_first_use_and_shared_by_clones() {
        let builds = Arc::new(AtomicU32::new(0));
        let counter = builds.clone();
        let lazy = OnFirstUse::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            42
        });
        let copy = lazy.clone();
        assert_eq!(builds.load(Ordering::SeqCst), 0, "nothing built before use");
        assert_eq!(*copy + *lazy, 84);
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }
}
