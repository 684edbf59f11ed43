//! libdeflate's compressor and decompressor, owned, over its C interface. libdeflate
//! allocates its state itself; where the system refuses (an address-space limit) it
//! returns NULL, which is answered here as `None`. (The libdeflater wrapper panics there
//! instead, and the panic's report, a backtrace under `RUST_BACKTRACE=1`, allocates
//! under the same limit: the process ended in 1 of 18 runs here.)

use std::ffi::c_int;
use std::ptr::NonNull;

use libdeflate_sys as sys;

/// Raw deflate at one level (0 to 12; zlib's are 0 to 9).
pub struct Deflater(NonNull<sys::libdeflate_compressor>);

// libdeflate's state is plain memory, used by one caller at a time (`&mut self`).
unsafe impl Send for Deflater {}

impl Deflater {
    /// None where libdeflate cannot allocate its state. The level is the caller's to check
    /// (`Codec::checked_level`).
    pub fn new(level: u32) -> Option<Self> {
        debug_assert!(level <= 12, "libdeflate has no level {level}");
        NonNull::new(unsafe { sys::libdeflate_alloc_compressor(level as c_int) }).map(Self)
    }

    /// `data` deflated into `out`, replacing what it held.
    pub fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let bound = unsafe { sys::libdeflate_deflate_compress_bound(self.0.as_ptr(), data.len()) };
        out.clear();
        out.reserve(bound);
        let written = unsafe {
            sys::libdeflate_deflate_compress(
                self.0.as_ptr(),
                data.as_ptr().cast(),
                data.len(),
                out.as_mut_ptr().cast(),
                bound,
            )
        };
        // libdeflate returns 0 only where the output does not fit, and the bound fits.
        assert!(written > 0, "libdeflate's bound did not hold");
        unsafe { out.set_len(written) };
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        unsafe { sys::libdeflate_free_compressor(self.0.as_ptr()) }
    }
}

/// Why a block did not inflate.
#[derive(Debug, PartialEq, Eq)]
pub enum InflateError {
    /// Not a deflate stream, or cut short.
    BadData,
    /// The stream inflates to more than the space given.
    NoSpace,
}

/// Raw inflate of a whole stream in one call.
pub struct Inflater(NonNull<sys::libdeflate_decompressor>);

// As for Deflater.
unsafe impl Send for Inflater {}

impl Inflater {
    /// None where libdeflate cannot allocate its state.
    pub fn new() -> Option<Self> {
        NonNull::new(unsafe { sys::libdeflate_alloc_decompressor() }).map(Self)
    }

    /// `data` inflated into `out`: the length it inflated to.
    pub fn inflate(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize, InflateError> {
        let mut inflated = 0;
        let result = unsafe {
            sys::libdeflate_deflate_decompress(
                self.0.as_ptr(),
                data.as_ptr().cast(),
                data.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut inflated,
            )
        };
        match result {
            sys::libdeflate_result_LIBDEFLATE_SUCCESS => Ok(inflated),
            sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Err(InflateError::NoSpace),
            _ => Err(InflateError::BadData),
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        unsafe { sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_round_trips_and_space_and_damage_are_told_apart() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let mut inflater = Inflater::new().unwrap();
        for level in 0..=12 {
            let mut deflated = vec![1, 2, 3];
            Deflater::new(level).unwrap().compress(&data, &mut deflated);
            let mut out = vec![0; data.len()];
            assert_eq!(inflater.inflate(&deflated, &mut out), Ok(data.len()), "level {level}");
            assert_eq!(out, data);
            assert_eq!(inflater.inflate(&deflated, &mut out[..data.len() - 1]), Err(InflateError::NoSpace));
            assert_eq!(inflater.inflate(&deflated[..deflated.len() / 2], &mut out), Err(InflateError::BadData));
        }
        let mut empty = Vec::new();
        Deflater::new(6).unwrap().compress(&[], &mut empty);
        assert_eq!(Inflater::new().unwrap().inflate(&empty, &mut []), Ok(0));
    }
}
