//! Fuzzes the archive reader of `vigil import`: any bytes give an archive's
//! rows or an `ImportRefused` error naming the fault, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_store::Archive;
use vigil_store::archive_tables::{ARCHIVED_TABLES, TableReader};

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let Ok(archive) = Archive::read_head(&mut input) else {
        return;
    };
    if !archive.carries_tables() {
        return;
    }
    let mut reader = TableReader::new(input, 2);
    while let Ok(Some(chunk)) = reader.next_chunk(7, 4096) {
        assert!(!chunk.rows.is_empty() && chunk.rows.len() <= 7);
        assert!(ARCHIVED_TABLES.iter().any(|table| table.name == chunk.table.name));
        assert!(chunk.rows.iter().all(|row| row.len() == chunk.table.columns.len()));
        assert!(chunk.first_line <= chunk.last_line);
    }
});
