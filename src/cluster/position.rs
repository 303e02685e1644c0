//! Log positions for read-your-writes across replicas (docs/cluster.md): each write a
//! request makes records its position here, and the HTTP layer answers the highest as
//! `Kulanz-Position`, which a later read on any replica can name in `Kulanz-After`.

use std::cell::Cell;

tokio::task_local! {
    static WRITTEN: Cell<u64>;
}

/// Run `f` noting the log positions its writes reach; the highest, if it wrote.
pub async fn track<F: std::future::Future>(f: F) -> (F::Output, Option<u64>) {
    WRITTEN
        .scope(Cell::new(0), async move {
            let out = f.await;
            let pos = WRITTEN.with(Cell::get);
            (out, (pos > 0).then_some(pos))
        })
        .await
}

/// Note that this request's write reached `position` (outside `track`: nothing to do).
pub fn record(position: u64) {
    let _ = WRITTEN.try_with(|w| w.set(w.get().max(position)));
}
