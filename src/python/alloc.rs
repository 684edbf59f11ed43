//! The package allocates with the allocator of the Polars it runs in (jemalloc in Polars'
//! Linux wheels), as Polars asks of its plugins: columns we build are freed by Polars, and
//! memory freed by one read is reused by the next, where glibc's allocator hands large
//! buffers back to the system and faults them in again on every read.
//!
//! Polars shares its allocator as a capsule named `polars.polars._allocator`, an attribute
//! of its compiled module: `polars.polars` up to Polars 1.30, `polars._plr` since. The
//! capsule is looked up at the first allocation, which is in the module's import (the GIL
//! held, Polars imported by the package first), with Python's C API alone: nothing in the
//! look-up allocates through this allocator. Without the capsule (no Python, an older
//! Polars) the system allocator serves, for the life of the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

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

// SAFETY: each call goes to one allocator, the same for the life of the process.
unsafe impl GlobalAlloc for PolarsAllocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        (self.functions().alloc)(layout.size(), layout.align())
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        (self.functions().dealloc)(ptr, layout.size(), layout.align())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        (self.functions().alloc_zeroed)(layout.size(), layout.align())
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        (self.functions().realloc)(ptr, layout.size(), layout.align(), new_size)
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
