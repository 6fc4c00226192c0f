//! Who is calling and what they may do: passwords, tokens, two-factor codes, the `AuthUser`
//! extractor and the permission policy.

pub mod extractor;
pub mod jwt;
pub mod passwords;
pub mod policy;
pub mod ratelimit;
pub mod throttle;
pub mod totp;

pub use extractor::{AuthUser, EnrollingUser};
pub use policy::{Action, Scope};
