//! Whole-repository resolution: many packages, several threads, results in
//! input order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::error::SolverError;
use crate::repository::Repository;
use crate::resolver::{Resolution, ResolveOptions, Resolver};

/// One result of [`resolve_all`] or [`run_batch`], delivered in input order.
#[derive(Debug, Clone)]
pub struct Resolved<T = Resolution> {
    /// Index of the request in the input.
    pub index: usize,
    /// The answer.
    pub resolution: T,
    /// Time the work took (for a request sharing an earlier identical
    /// request's answer: that request's time).
    pub solve_time: Duration,
    /// True when an earlier request with identical BuildRequires was solved
    /// and its answer reused.
    pub shared: bool,
    /// True when the answer was not solved in this run but carried over
    /// (an incremental run's unaffected package).
    pub reused: bool,
}

/// Figures of one batch run.
#[derive(Debug, Clone, Default)]
pub struct BatchStats {
    /// Requests answered.
    pub requests: usize,
    /// Distinct BuildRequires lists actually solved.
    pub solves: usize,
    /// Worker threads used.
    pub threads: usize,
    /// Requests answered without solving (carried over by the caller).
    pub reused: usize,
    /// Longest time a worker spent setting up (loading its pools).
    pub pool_load: Duration,
}

enum Msg<T> {
    Ready(Duration),
    Done(usize, T, Duration),
    Failed(SolverError),
}

/// Resolves the build group plus each request's BuildRequires against
/// `repos` (loaded together in one pool per thread) on `jobs` threads.
///
/// Each thread loads its own pool from the repositories' `.solv` caches and
/// reuses one solver; identical BuildRequires lists are solved once. Results
/// are passed to `on_result` on the calling thread, in input order, as soon
/// as every earlier one is known.
pub fn resolve_all<F>(
    repos: &[&Repository],
    build_group: &[String],
    requests: &[Vec<String>],
    options: ResolveOptions,
    jobs: usize,
    on_result: F,
) -> Result<BatchStats, SolverError>
where
    F: FnMut(Resolved),
{
    run_batch(
        requests,
        jobs,
        || Resolver::new(repos, options),
        |resolver: &mut Resolver, brs: &[String]| resolver.resolve(build_group, brs),
        on_result,
    )
}

/// The engine of [`resolve_all`], for any per-thread state `S` (e.g. one
/// resolver per repository state) and any per-request answer `T`.
///
/// `init` runs once on each worker thread; `work` runs once per distinct
/// BuildRequires list; `on_result` gets every request's answer in input order.
pub fn run_batch<S, T, I, W, F>(
    requests: &[Vec<String>],
    jobs: usize,
    init: I,
    work: W,
    on_result: F,
) -> Result<BatchStats, SolverError>
where
    T: Clone + Send,
    I: Fn() -> Result<S, SolverError> + Sync,
    W: Fn(&mut S, &[String]) -> T + Sync,
    F: FnMut(Resolved<T>),
{
    let carried: Vec<Option<T>> = requests.iter().map(|_| None).collect();
    run_batch_carrying(requests, carried, jobs, init, work, on_result)
}

/// [`run_batch`] for a run that already knows some answers: a request whose
/// `carried` entry is `Some` is not solved and its answer is passed on as
/// it is (marked [`Resolved::reused`]), in input order with the others.
/// Worker threads are only started when something is left to solve.
pub fn run_batch_carrying<S, T, I, W, F>(
    requests: &[Vec<String>],
    mut carried: Vec<Option<T>>,
    jobs: usize,
    init: I,
    work: W,
    mut on_result: F,
) -> Result<BatchStats, SolverError>
where
    T: Clone + Send,
    I: Fn() -> Result<S, SolverError> + Sync,
    W: Fn(&mut S, &[String]) -> T + Sync,
    F: FnMut(Resolved<T>),
{
    if carried.len() != requests.len() {
        return Err(SolverError::Worker(format!(
            "{} carried answers for {} requests",
            carried.len(),
            requests.len()
        )));
    }
    // Distinct lists still to solve, in order of first appearance.
    let mut first: HashMap<&[String], usize> = HashMap::new();
    let mut unique: Vec<&[String]> = Vec::new();
    let mut unique_of: Vec<usize> = Vec::with_capacity(requests.len());
    for (r, c) in requests.iter().zip(&carried) {
        if c.is_some() {
            unique_of.push(usize::MAX);
            continue;
        }
        let u = *first.entry(r.as_slice()).or_insert_with(|| {
            unique.push(r.as_slice());
            unique.len() - 1
        });
        unique_of.push(u);
    }
    let mut last_use = vec![0usize; unique.len()];
    let mut first_index = vec![usize::MAX; unique.len()];
    for (i, &u) in unique_of.iter().enumerate() {
        if u != usize::MAX {
            last_use[u] = i;
            first_index[u] = first_index[u].min(i);
        }
    }
    let threads = if unique.is_empty() {
        0
    } else {
        jobs.max(1).min(unique.len())
    };
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut stats = BatchStats {
        requests: requests.len(),
        solves: unique.len(),
        threads,
        reused: carried.iter().filter(|c| c.is_some()).count(),
        ..BatchStats::default()
    };

    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Msg<T>>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop, unique, init, work) = (&next, &stop, &unique, &init, &work);
            scope.spawn(move || {
                let started = Instant::now();
                let mut state = match init() {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Msg::Failed(e));
                        return;
                    }
                };
                let _ = tx.send(Msg::Ready(started.elapsed()));
                while !stop.load(Ordering::Relaxed) {
                    let u = next.fetch_add(1, Ordering::Relaxed);
                    let Some(brs) = unique.get(u) else { break };
                    let t = Instant::now();
                    let res = work(&mut state, brs);
                    if tx.send(Msg::Done(u, res, t.elapsed())).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);

        let mut done: Vec<Option<(T, Duration)>> = (0..unique.len()).map(|_| None).collect();
        let mut emitted = 0usize;
        let mut error = None;
        let mut emit_ready = |done: &mut Vec<Option<(T, Duration)>>, emitted: &mut usize| {
            while *emitted < requests.len() {
                let i = *emitted;
                if let Some(answer) = carried[i].take() {
                    on_result(Resolved {
                        index: i,
                        resolution: answer,
                        solve_time: Duration::ZERO,
                        shared: false,
                        reused: true,
                    });
                    *emitted += 1;
                    continue;
                }
                let u = unique_of[i];
                let shared = first_index[u] != i;
                let item = if last_use[u] == i {
                    done[u].take()
                } else {
                    done[u].as_ref().map(|(r, t)| (r.clone(), *t))
                };
                let Some((resolution, solve_time)) = item else {
                    break;
                };
                on_result(Resolved {
                    index: i,
                    resolution,
                    solve_time,
                    shared,
                    reused: false,
                });
                *emitted += 1;
            }
        };
        emit_ready(&mut done, &mut emitted);
        for msg in rx {
            match msg {
                Msg::Ready(t) => stats.pool_load = stats.pool_load.max(t),
                Msg::Failed(e) => {
                    stop.store(true, Ordering::Relaxed);
                    error.get_or_insert(e);
                }
                Msg::Done(u, res, t) => {
                    done[u] = Some((res, t));
                    emit_ready(&mut done, &mut emitted);
                }
            }
        }
        match error {
            Some(e) => Err(e),
            None if emitted < requests.len() => Err(SolverError::Worker(
                "a resolver thread stopped early".to_owned(),
            )),
            None => Ok(()),
        }
    })?;
    Ok(stats)
}
