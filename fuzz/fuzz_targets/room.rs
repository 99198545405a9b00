//! Fuzz target `room`: arbitrary frames from an editor and a viewer, through the path a
//! connection's frames take (decoding, the bounds check, the role check, the room), on a real
//! store (`waymark_server::fuzzing`).
//!
//! Nothing may panic or hang; afterwards the map must answer, what is stored must be what is
//! served, a viewer alone must leave the map empty, and the map must read as a journey map.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use waymark_server::fuzzing::Harness;

fuzz_target!(|data: &[u8]| {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::new).run(data);
});

/// As for `decode`: fallible reservations over 256 MiB fail instead of aborting under ASan.
#[unsafe(no_mangle)]
pub extern "C" fn __asan_default_options() -> *const std::ffi::c_char {
    c"allocator_may_return_null=1:max_allocation_size_mb=256:detect_leaks=0".as_ptr()
}
