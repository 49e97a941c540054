//! The backup import's frame (`rules::backup::parse`) on arbitrary bytes: never panics; a
//! request it accepts names this format, version and tenant; every record it reads names the
//! tenant, has a well-formed id of its kind, an object as data whose checksum matches, and no
//! record appears twice; a read record written again reads back the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portcullis::rules::backup::{self, Line};

fuzz_target!(|data: &[u8]| {
    for tenant in ["default", "acme"] {
        let Ok(batch) = backup::parse(data, tenant) else {
            continue;
        };
        assert_eq!(batch.header.format, backup::FORMAT);
        assert_eq!(batch.header.version, backup::VERSION);
        assert_eq!(batch.header.tenant, tenant);
        assert!(batch.lines.len() <= backup::MAX_RECORDS);
        let mut seen = std::collections::HashSet::new();
        for (_, line) in batch.lines.iter().flatten() {
            assert_eq!(line.tenant, tenant);
            assert!(backup::id_ok(line.kind, &line.id));
            assert!(line.data.is_object());
            assert_eq!(backup::digest(&line.data), line.sha256);
            assert!(seen.insert((line.kind, line.id.clone())));
            let again = Line::new(line.kind, &line.tenant, &line.id, line.data.clone());
            assert_eq!(&again, line);
        }
    }
});
