//! Any bytes as an upload: the probe must not panic or read out of bounds, and what it
//! reports must be self-consistent (a file probed on disk says the same as its bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_store::probe;

fuzz_target!(|data: &[u8]| {
    let from_bytes = probe::probe(data);
    if let Some(p) = from_bytes {
        let _ = p.dimensions_problem();
        assert_eq!(p.width.is_some(), p.height.is_some(), "dimensions come in pairs");
    }
    // The streaming reader used for uploads, on the same bytes.
    let dir = std::env::temp_dir().join(format!("postbridge-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("upload");
    if std::fs::write(&path, data).is_ok() {
        let from_file = probe::probe_file(&path).ok().flatten();
        assert_eq!(
            from_file.map(|p| p.media_type),
            from_bytes.map(|p| p.media_type),
            "probe_file and probe agree on the type"
        );
    }
});
