//! Native tests over the in-memory platform, driven only through `routes::handle` (the stable
//! HTTP surface): the rule tables, and whole flows. End-to-end tests keep what needs workerd.

mod account;
mod audit;
mod backup;
mod console_people;
mod apps;
mod assertion;
mod authorization;
mod brand;
mod flows;
mod load;
mod mail;
mod oidc;
mod oidc_claims;
mod oidc_pairwise;
mod oidc_logout;
mod oidc_prompt;
mod org_settings;
mod orgs;
mod par;
mod passkeys;
mod quotas;
mod recovery;
mod registration;
mod pages_people;
mod sessions;
mod shards;
mod support;
mod tenancy;
mod upstream;
mod two_factor;
