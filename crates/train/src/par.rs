//! The one parallel map of the builder: `f(0..n)` on scoped threads, results in index order, a
//! panicking worker surfaced as an error (never as a silently empty result).

use anyhow::{Result, anyhow};

/// Worker count for `threads` (0 = all cores).
pub fn workers(threads: usize) -> usize {
    if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads }
}

/// `f(i)` for every `i` in `0..n` on `threads` workers (0 = all cores), in index order.
/// Each worker takes one contiguous chunk, so the output does not depend on the thread count.
pub fn par_map<T, F>(n: usize, threads: usize, f: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    let chunk = n.div_ceil(workers(threads).max(1)).max(1);
    let parts: Vec<std::thread::Result<Vec<T>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let f = &f;
                s.spawn(move || (start..(start + chunk).min(n)).map(f).collect::<Vec<T>>())
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut out = Vec::with_capacity(n);
    for p in parts {
        out.extend(p.map_err(|e| {
            let msg = e
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            anyhow!("a worker thread panicked: {msg}")
        })?);
    }
    Ok(out)
}

/// [`par_map`] of fallible work: the first error (in index order) wins.
pub fn try_par_map<T, F>(n: usize, threads: usize, f: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync,
{
    par_map(n, threads, f)?.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_on_any_thread_count() {
        for threads in [1, 2, 3, 7] {
            let v = par_map(10, threads, |i| i * i).unwrap();
            assert_eq!(v, (0..10).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(par_map(0, 2, |i| i).unwrap().is_empty());
    }

    #[test]
    fn a_panicking_worker_is_an_error_not_an_empty_result() {
        let r = par_map(8, 2, |i| if i == 5 { panic!("boom at {i}") } else { i });
        let e = r.unwrap_err().to_string();
        assert!(e.contains("panicked") && e.contains("boom at 5"), "{e}");
    }

    #[test]
    fn try_par_map_returns_the_first_error() {
        let r = try_par_map(6, 2, |i| if i >= 3 { Err(anyhow!("bad {i}")) } else { Ok(i) });
        assert_eq!(r.unwrap_err().to_string(), "bad 3");
    }
}
