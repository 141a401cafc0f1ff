//! Runtime support for components that does not depend on the embedding API: string
//! transcoding and handle tables.

pub mod handles;
pub mod transcode;
