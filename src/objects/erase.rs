//! Erasing one object's whole storage: how an organisation's data is removed when it is deleted
//! (`crate::tenancy::erase`). Any kind of object can be erased, so the command runs in
//! [`Any`], whose names are only made from another kind's name ([`any`]).

use super::protocol::{kind, op, Kind, Name};

kind!(Any = "");

/// The same object as `name`, to erase it.
pub fn any<K: Kind>(name: &Name<K>) -> Name<Any> {
    Name::raw(name.as_str().to_owned())
}

/// Keys deleted per listing inside one command.
const BATCH: usize = 1000;

op! {
    /// Deletes every key the object holds; answers how many.
    Erase in Any => u32 {}
    |_, kv, _now| {
        let mut n: u32 = 0;
        loop {
            let keys = kv.list("", None, BATCH)?;
            if keys.is_empty() {
                return Ok(n);
            }
            for (k, _) in keys {
                kv.delete(&k)?;
                n = n.saturating_add(1);
            }
        }
    }
}
