//! Private alias for the raw libsolv bindings, plus what libsolv-sys leaves out.
//!
//! libsolv-sys runs bindgen over a subset of libsolv's headers. Functions from
//! the headers it does not parse are declared here by hand (their signatures
//! copied from Debian's libsolv 0.7.23 headers), and the few `static inline`
//! helpers we need are reimplemented in Rust.

#![allow(unsafe_code)]

pub(crate) use libsolv_sys::ffi::*;

use std::os::raw::c_char;

unsafe extern "C" {
    /// `solv_xfopen.h` (libsolvext): opens a file, decompressing by suffix.
    pub(crate) fn solv_xfopen(fn_: *const c_char, mode: *const c_char) -> *mut FILE;
    /// `pool_parserpmrichdep.h`: parses an rpm rich dependency, 0 on error.
    pub(crate) fn pool_parserpmrichdep(pool: *mut Pool, dep: *const c_char) -> Id;
    /// `evr.h`: compares two EVR ids (mode 0 = `EVRCMP_COMPARE`).
    pub(crate) fn pool_evrcmp(
        pool: *const Pool,
        evr1: Id,
        evr2: Id,
        mode: std::os::raw::c_int,
    ) -> std::os::raw::c_int;
}

/// `ISRELDEP` from pool.h.
pub(crate) fn is_reldep(id: Id) -> bool {
    (id as u32) & 0x8000_0000 != 0
}

/// `queue_push` from queue.h (a `static inline` function, so not bound).
///
/// # Safety
/// `q` must point to a queue initialised with `queue_init`.
pub(crate) unsafe fn queue_push(q: *mut Queue, id: Id) {
    // SAFETY: the caller guarantees `q` is a valid, initialised queue;
    // `queue_alloc_one` guarantees at least one free slot after `count`.
    unsafe {
        if (*q).left == 0 {
            queue_alloc_one(q);
        }
        *(*q).elements.add((*q).count as usize) = id;
        (*q).count += 1;
        (*q).left -= 1;
    }
}

/// `pool_whatprovides` from pool.h: offset into `whatprovidesdata` of the
/// zero-terminated list of solvables providing `d`.
///
/// # Safety
/// `pool` must be valid and `pool_createwhatprovides` must have run since
/// the last change to its repositories; `d` must be an id of this pool.
pub(crate) unsafe fn pool_whatprovides(pool: *mut Pool, d: Id) -> Id {
    // SAFETY: guaranteed by the caller: the whatprovides arrays exist and are
    // indexed by string ids (`d`) and relation ids (`d ^ 0x80000000`).
    unsafe {
        if !is_reldep(d) {
            let off = *(*pool).whatprovides.add(d as usize);
            if off != 0 {
                return off as Id;
            }
        } else {
            let v = ((d as u32) ^ 0x8000_0000) as usize;
            let off = *(*pool).whatprovides_rel.add(v);
            if off != 0 {
                return off as Id;
            }
        }
        pool_addrelproviders(pool, d)
    }
}
