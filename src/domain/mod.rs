//! Types that cannot be invalid, and the pure rules of DOMAIN.md: routing, deadlines, priority and
//! the state machines. Nothing here touches the database or HTTP.

pub mod calendar;
pub mod correspondence;
pub mod deadlines;
pub mod enums;
pub mod health_authority;
pub mod incident;
pub mod ioc;
pub mod letters;
pub mod lifecycle;
pub mod national;
pub mod obligations;
pub mod parse;
pub mod password;
pub mod prefecture;
mod prefecture_data;
pub mod priority;
pub mod reports;
pub mod routing;
pub mod sharing;
pub mod vocabulary;

pub use enums::*;
pub use prefecture::Prefecture;

/// One invalid input field.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `personal_data.persons_estimate`.
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}
