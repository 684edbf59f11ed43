//! The package allocates with the allocator of the Polars it runs in (jemalloc in Polars'
//! Linux wheels), as Polars asks of its plugins: columns we build are freed by Polars, and
//! memory freed by one read is reused by the next, where glibc's allocator hands large
//! buffers back to the system and faults them in again on every read.
//!
//! An allocation the allocator refuses (an address-space limit reached) is served from a
//! reserve of our own and noted for the work to stop (`crate::memory`), where Rust would
//! end the process.
//!
//! Polars shares its allocator as a capsule named `polars.polars._allocator`, an attribute
//! of its compiled module: `polars.polars` up to Polars 1.30, `polars._plr` since. The
//! capsule is looked up at the first allocation, which is in the module's import (the GIL
//! held, Polars imported by the package first), with Python's C API alone: nothing in the
//! look-up allocates through this allocator. Without the capsule (no Python, an older
//! Polars) the system allocator serves, for the life of the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use pyo3::ffi;

/// The functions Polars' capsule holds, in its order.
#[repr(C)]
struct Functions {
    alloc: unsafe extern "C" fn(usize, usize) -> *mut u8,
    dealloc: unsafe extern "C" fn(*mut u8, usize, usize),
    alloc_zeroed: unsafe extern "C" fn(usize, usize) -> *mut u8,
    realloc: unsafe extern "C" fn(*mut u8, usize, usize, usize) -> *mut u8,
}

unsafe extern "C" fn system_alloc(size: usize, align: usize) -> *mut u8 {
    System.alloc(Layout::from_size_align_unchecked(size, align))
}

unsafe extern "C" fn system_dealloc(ptr: *mut u8, size: usize, align: usize) {
    System.dealloc(ptr, Layout::from_size_align_unchecked(size, align))
}

unsafe extern "C" fn system_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    System.alloc_zeroed(Layout::from_size_align_unchecked(size, align))
}

unsafe extern "C" fn system_realloc(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8 {
    System.realloc(ptr, Layout::from_size_align_unchecked(size, align), new_size)
}

static SYSTEM: Functions = Functions {
    alloc: system_alloc,
    dealloc: system_dealloc,
    alloc_zeroed: system_alloc_zeroed,
    realloc: system_realloc,
};

/// The capsule's name, and the modules that have held it.
const CAPSULE: &[u8] = b"polars.polars._allocator\0";
const MODULES: [&[u8]; 2] = [b"polars._plr\0", b"polars.polars\0"];
const ATTRIBUTE: &[u8] = b"_allocator\0";

/// The allocator in use: Polars' or the system's, chosen at the first allocation.
struct PolarsAllocator {
    chosen: AtomicPtr<Functions>,
}

impl PolarsAllocator {
    const fn new() -> Self {
        Self { chosen: AtomicPtr::new(std::ptr::null_mut()) }
    }

    #[inline(always)]
    fn functions(&self) -> &'static Functions {
        let chosen = self.chosen.load(Ordering::Acquire);
        if chosen.is_null() {
            return self.choose();
        }
        // SAFETY: only ever set to a `'static` Functions (ours, or Polars' capsule, which
        // lives as long as the process: Polars is never unloaded).
        unsafe { &*chosen }
    }

    #[cold]
    fn choose(&self) -> &'static Functions {
        let found = polars_functions().unwrap_or(&SYSTEM);
        let found_ptr = found as *const Functions as *mut Functions;
        match self.chosen.compare_exchange(std::ptr::null_mut(), found_ptr, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => found,
            // SAFETY: as in `functions`.
            Err(earlier) => unsafe { &*earlier },
        }
    }
}

/// Polars' allocator functions, from its capsule; None without Python or the capsule.
fn polars_functions() -> Option<&'static Functions> {
    // SAFETY: Python's C API, called only once the interpreter runs, with the GIL taken
    // for the calls; each new reference is released, and an error raised by a failed
    // look-up is cleared.
    unsafe {
        if ffi::Py_IsInitialized() == 0 {
            return None;
        }
        let gil = ffi::PyGILState_Ensure();
        let mut found = None;
        for module_name in MODULES {
            let module = ffi::PyImport_ImportModule(module_name.as_ptr() as *const c_char);
            if module.is_null() {
                ffi::PyErr_Clear();
                continue;
            }
            let capsule = ffi::PyObject_GetAttrString(module, ATTRIBUTE.as_ptr() as *const c_char);
            ffi::Py_DecRef(module);
            if capsule.is_null() {
                ffi::PyErr_Clear();
                continue;
            }
            let pointer: *mut c_void = ffi::PyCapsule_GetPointer(capsule, CAPSULE.as_ptr() as *const c_char);
            ffi::Py_DecRef(capsule);
            if pointer.is_null() {
                ffi::PyErr_Clear();
                continue;
            }
            found = Some(&*(pointer as *const Functions));
            break;
        }
        ffi::PyGILState_Release(gil);
        found
    }
}

/// Memory kept back for allocations the allocator refuses: enough for the work to reach
/// its next step (a batch decoded, a block written) and stop there.
const RESERVE_BYTES: usize = 64 << 20;

/// The reserve's mapping (null until a work first maps it), and its use, in one word so
/// that both change at once: the bytes handed out (high half) and the allocations live
/// (low half). It is handed out from its start, and from its start again once every
/// allocation in it is freed, so that it serves again after a work stopped.
static RESERVE: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static RESERVE_USE: AtomicU64 = AtomicU64::new(0);

/// Maps the reserve where it is not there yet (at each work's start). Its own mapping,
/// not the allocator's memory: jemalloc keeps what it frees for the thread's arena that
/// freed it, and keeps the address space it maps, so that memory given back to it is not
/// where another thread's refused allocation can find room. Untouched, it costs address
/// space, not memory.
pub fn keep_reserve() {
    #[cfg(unix)]
    if RESERVE.load(Ordering::Acquire).is_null() {
        // SAFETY: a new private anonymous mapping, ours alone.
        let mapped = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RESERVE_BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if mapped != libc::MAP_FAILED
            && RESERVE
                .compare_exchange(std::ptr::null_mut(), mapped.cast(), Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            // SAFETY: the mapping made just above, which another thread's made redundant.
            unsafe { libc::munmap(mapped, RESERVE_BYTES) };
        }
    }
}

/// `size` bytes at `align` from the reserve, or null where it has no room.
fn from_reserve(size: usize, align: usize) -> *mut u8 {
    let base = RESERVE.load(Ordering::Acquire);
    if base.is_null() {
        return std::ptr::null_mut();
    }
    let mut used = RESERVE_USE.load(Ordering::Acquire);
    loop {
        let (handed_out, live) = ((used >> 32) as usize, used & u64::from(u32::MAX));
        let start = (base as usize + handed_out).next_multiple_of(align) - base as usize;
        let Some(end) = start.checked_add(size).filter(|&end| end <= RESERVE_BYTES) else {
            return std::ptr::null_mut();
        };
        let next = ((end as u64) << 32) | (live + 1);
        match RESERVE_USE.compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: start + size is within the reserve's mapping.
            Ok(_) => return unsafe { base.add(start) },
            Err(now) => used = now,
        }
    }
}

fn in_reserve(pointer: *mut u8) -> bool {
    let base = RESERVE.load(Ordering::Acquire) as usize;
    base != 0 && (base..base + RESERVE_BYTES).contains(&(pointer as usize))
}

/// Frees an allocation of the reserve: the last one freed empties it.
fn free_in_reserve() {
    let mut used = RESERVE_USE.load(Ordering::Acquire);
    loop {
        let live = (used & u64::from(u32::MAX)) - 1;
        let next = if live == 0 { 0 } else { (used & !u64::from(u32::MAX)) | live };
        match RESERVE_USE.compare_exchange_weak(used, next, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(now) => used = now,
        }
    }
}

/// Where the allocator refused `size` bytes: noted, for the work to stop, and taken from
/// the reserve (null where it has no room: Rust then ends the process, as before).
#[cold]
fn refused(size: usize, align: usize) -> *mut u8 {
    crate::memory::note_failed(size);
    from_reserve(size, align)
}

// SAFETY: each call goes to one allocator, the same for the life of the process, but
// for the reserve's allocations, which only the reserve frees.
unsafe impl GlobalAlloc for PolarsAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = (self.functions().alloc)(layout.size(), layout.align());
        if pointer.is_null() {
            return refused(layout.size(), layout.align());
        }
        pointer
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_reserve(ptr) {
            return free_in_reserve();
        }
        (self.functions().dealloc)(ptr, layout.size(), layout.align())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = (self.functions().alloc_zeroed)(layout.size(), layout.align());
        if pointer.is_null() {
            let pointer = refused(layout.size(), layout.align());
            if !pointer.is_null() {
                // The reserve's bytes may have served before.
                pointer.write_bytes(0, layout.size());
            }
            return pointer;
        }
        pointer
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_reserve(ptr) {
            let pointer = (self.functions().realloc)(ptr, layout.size(), layout.align(), new_size);
            if !pointer.is_null() {
                return pointer;
            }
        }
        // Moved into (or out of) the reserve: a refused realloc leaves `ptr` as it was.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let pointer = if in_reserve(ptr) { self.alloc(new_layout) } else { refused(new_size, layout.align()) };
        if !pointer.is_null() {
            std::ptr::copy_nonoverlapping(ptr, pointer, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        pointer
    }
}

#[global_allocator]
static ALLOCATOR: PolarsAllocator = PolarsAllocator::new();

/// Whose allocator serves the package: "polars" or "system".
pub fn in_use() -> &'static str {
    match std::ptr::eq(ALLOCATOR.functions(), &SYSTEM) {
        true => "system",
        false => "polars",
    }
}
