//! Approval by a person: signed, expiring, single-use links (`token`), the
//! request an approver is sent (`request`), and the one path by which a
//! decision is made (`decision`).

pub mod ask;
pub mod decision;
pub mod mail;
pub mod request;
pub mod store;
pub mod token;
