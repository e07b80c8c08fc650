//! An owned libsolv `Queue` (a growable vector of `Id`s).

use crate::ffi;

/// An initialised libsolv queue; freed on drop.
pub(crate) struct Queue {
    raw: ffi::Queue,
}

impl Queue {
    /// An empty queue.
    pub(crate) fn new() -> Self {
        let mut raw = ffi::Queue {
            elements: std::ptr::null_mut(),
            count: 0,
            alloc: std::ptr::null_mut(),
            left: 0,
        };
        // SAFETY: `queue_init` only writes the fields of the struct we own.
        unsafe { ffi::queue_init(&mut raw) };
        Queue { raw }
    }

    /// Appends one id.
    pub(crate) fn push(&mut self, id: ffi::Id) {
        // SAFETY: `raw` was initialised by `queue_init` in `new`.
        unsafe { ffi::queue_push(&mut self.raw, id) };
    }

    /// Removes every element, keeping the allocation.
    pub(crate) fn clear(&mut self) {
        // `queue_empty` is static inline in queue.h; this is its body.
        if self.raw.alloc.is_null() {
            self.raw.left += self.raw.count;
        } else {
            // SAFETY: `elements` always points into the `alloc` buffer.
            let shifted = unsafe { self.raw.elements.offset_from(self.raw.alloc) };
            self.raw.left += shifted as i32 + self.raw.count;
            self.raw.elements = self.raw.alloc;
        }
        self.raw.count = 0;
    }

    /// The elements as a slice.
    pub(crate) fn as_slice(&self) -> &[ffi::Id] {
        if self.raw.count <= 0 || self.raw.elements.is_null() {
            return &[];
        }
        // SAFETY: `elements` points to `count` initialised ids owned by this
        // queue, and the borrow of `self` keeps them alive and unmodified.
        unsafe { std::slice::from_raw_parts(self.raw.elements, self.raw.count as usize) }
    }

    /// Raw pointer for libsolv calls that fill or read the queue.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut ffi::Queue {
        &mut self.raw
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: `raw` is an initialised queue that nothing else frees.
        unsafe { ffi::queue_free(&mut self.raw) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_clear_and_read_back() {
        let mut q = Queue::new();
        for i in 0..100 {
            q.push(i);
        }
        assert_eq!(q.as_slice().len(), 100);
        assert_eq!(q.as_slice()[99], 99);
        q.clear();
        assert!(q.as_slice().is_empty());
        q.push(7);
        assert_eq!(q.as_slice(), &[7]);
    }
}
