//! Fuzzes the protocol parser: any text gives a protocol or a
//! `ProtocolError`, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_evaluation::protocol::Protocol;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Protocol::parse(text, "fuzz.toml");
    }
});
