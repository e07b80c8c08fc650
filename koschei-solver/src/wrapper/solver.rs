//! The libsolv solver and its transactions.

use std::marker::PhantomData;
use std::os::raw::c_int;

use super::{Pool, Queue};
use crate::ffi;

/// A solver bound to one pool, reusable for successive jobs.
pub(crate) struct Solver<'p> {
    raw: *mut ffi::Solver,
    _pool: PhantomData<&'p Pool>,
}

/// Flags libdnf's `Goal::Impl::initSolver`/`solve` set for an install goal.
const GOAL_FLAGS: [u32; 6] = [
    ffi::SOLVER_FLAG_ALLOW_VENDORCHANGE,
    ffi::SOLVER_FLAG_DUP_ALLOW_VENDORCHANGE,
    ffi::SOLVER_FLAG_KEEP_ORPHANS,
    ffi::SOLVER_FLAG_BEST_OBEY_POLICY,
    ffi::SOLVER_FLAG_YUM_OBSOLETES,
    ffi::SOLVER_FLAG_ALLOW_DOWNGRADE,
];

impl<'p> Solver<'p> {
    /// A solver with libdnf's flags; `ignore_weak_deps` sets IGNORE_RECOMMENDED.
    pub(crate) fn new(pool: &'p Pool, ignore_weak_deps: bool) -> Solver<'p> {
        // SAFETY: the pool is valid and outlives the solver (lifetime 'p).
        let raw = unsafe { ffi::solver_create(pool.as_ptr()) };
        for flag in GOAL_FLAGS {
            // SAFETY: `raw` is a valid solver; flags are libsolv constants.
            unsafe { ffi::solver_set_flag(raw, flag as c_int, 1) };
        }
        if ignore_weak_deps {
            // SAFETY: as above.
            unsafe { ffi::solver_set_flag(raw, ffi::SOLVER_FLAG_IGNORE_RECOMMENDED as c_int, 1) };
        }
        Solver {
            raw,
            _pool: PhantomData,
        }
    }

    /// Runs the solver on `job`; returns the number of problems.
    pub(crate) fn solve(&mut self, job: &mut Queue) -> u32 {
        // SAFETY: solver and job queue are valid; job ids come from the same pool.
        unsafe { ffi::solver_solve(self.raw, job.as_mut_ptr()) as u32 }
    }

    /// The rule infos `(type, source, target, dep)` of every rule of problem
    /// `problem` (1-based), in libsolv's order (`solver_findallproblemrules`
    /// then `solver_allruleinfos`, as libdnf's `describeProblemRules` does).
    pub(crate) fn problem_rule_infos(&mut self, problem: u32) -> Vec<[ffi::Id; 4]> {
        let mut rules = Queue::new();
        let mut infos = Queue::new();
        let mut out = Vec::new();
        // SAFETY: the solver has solved; `problem` is in 1..=problem count.
        unsafe {
            ffi::solver_findallproblemrules(self.raw, problem as ffi::Id, rules.as_mut_ptr())
        };
        for &rid in rules.as_slice() {
            // SAFETY: `rid` is a rule id returned by the solver for this problem.
            let n = unsafe { ffi::solver_allruleinfos(self.raw, rid, infos.as_mut_ptr()) };
            if n == 0 {
                continue;
            }
            for chunk in infos.as_slice().chunks_exact(4) {
                out.push([chunk[0], chunk[1], chunk[2], chunk[3]]);
            }
        }
        out
    }

    /// libsolv's own text for a rule (libdnf's fallback for unknown types).
    pub(crate) fn ruleinfo2str(&mut self, info: [ffi::Id; 4]) -> String {
        // SAFETY: the info comes from this solver; the temp string is copied.
        unsafe {
            super::pool::cstr_to_string(ffi::solver_problemruleinfo2str(
                self.raw,
                info[0] as ffi::SolverRuleinfo,
                info[1],
                info[2],
                info[3],
            ))
        }
    }

    /// The transaction of the last successful solve.
    pub(crate) fn transaction(&mut self) -> Transaction<'_> {
        // SAFETY: the solver is valid and has solved.
        let raw = unsafe { ffi::solver_create_transaction(self.raw) };
        Transaction {
            raw,
            _solver: PhantomData,
        }
    }
}

impl Drop for Solver<'_> {
    fn drop(&mut self) {
        // SAFETY: the solver is owned here and its transactions are gone (lifetime).
        unsafe { ffi::solver_free(self.raw) };
    }
}

/// A transaction created from a solver.
pub(crate) struct Transaction<'s> {
    raw: *mut ffi::Transaction,
    _solver: PhantomData<&'s mut ()>,
}

impl Transaction<'_> {
    /// What libdnf's `listInstalls` returns: steps of type INSTALL or OBSOLETES.
    pub(crate) fn installs(&self) -> Vec<ffi::Id> {
        let mode = (ffi::SOLVER_TRANSACTION_SHOW_OBSOLETES
            | ffi::SOLVER_TRANSACTION_CHANGE_IS_REINSTALL
            | ffi::SOLVER_TRANSACTION_SHOW_ACTIVE
            | ffi::SOLVER_TRANSACTION_SHOW_ALL) as c_int;
        // SAFETY: the transaction is valid; `steps` is its own queue.
        let steps: Vec<ffi::Id> = unsafe {
            let q = &(*self.raw).steps;
            if q.count <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(q.elements, q.count as usize).to_vec()
            }
        };
        steps
            .into_iter()
            .filter(|&p| {
                // SAFETY: `p` is a step of this transaction.
                let t = unsafe { ffi::transaction_type(self.raw, p, mode) } as u32;
                t == ffi::SOLVER_TRANSACTION_INSTALL || t == ffi::SOLVER_TRANSACTION_OBSOLETES
            })
            .collect()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        // SAFETY: the transaction is owned here.
        unsafe { ffi::transaction_free(self.raw) };
    }
}
