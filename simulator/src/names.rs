//! The words service names are made of (domain, role) and the team owning
//! each domain. Constants only: the fleet draws from them.

/// The business domains, the first word of a service name.
pub(crate) const DOMAINS: [&str; 26] = [
    "orders",
    "payments",
    "users",
    "catalog",
    "inventory",
    "shipping",
    "billing",
    "search",
    "reviews",
    "notifications",
    "auth",
    "cart",
    "pricing",
    "recommendations",
    "analytics",
    "fraud",
    "ledger",
    "media",
    "geo",
    "support",
    "loyalty",
    "tax",
    "returns",
    "subscriptions",
    "messaging",
    "invoices",
];
/// The team owning each domain: the `team` resource attribute of a Rust
/// service's spans, so that the service map can group services by a tag that
/// is not their name prefix (teams own several domains).
pub(crate) const TEAMS: [(&str, &[&str]); 6] = [
    (
        "storefront",
        &[
            "orders",
            "cart",
            "catalog",
            "search",
            "reviews",
            "recommendations",
        ],
    ),
    (
        "payments",
        &[
            "payments", "billing", "ledger", "invoices", "tax", "fraud", "pricing",
        ],
    ),
    ("identity", &["users", "auth", "loyalty", "subscriptions"]),
    ("fulfilment", &["inventory", "shipping", "returns", "geo"]),
    (
        "platform",
        &["notifications", "messaging", "media", "analytics"],
    ),
    ("care", &["support"]),
];

/// Roles of the entry services (level 0): the last word of their names.
pub(crate) const ENTRY_ROLES: [&str; 4] = ["api", "gateway", "bff", "graphql"];
/// Roles of the services between the entries and the leaves.
pub(crate) const MID_ROLES: [&str; 8] = [
    "service",
    "handler",
    "processor",
    "validator",
    "enricher",
    "router",
    "aggregator",
    "resolver",
];
/// Roles of the workers at the leaves.
pub(crate) const LEAF_ROLES: [&str; 8] = [
    "worker",
    "indexer",
    "archiver",
    "notifier",
    "exporter",
    "sync",
    "cleanup",
    "projector",
];
