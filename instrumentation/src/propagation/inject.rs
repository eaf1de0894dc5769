//! Writing trace context into outgoing carriers.
