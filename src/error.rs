//! `ApiError`: every failure a request can meet, rendered as RFC 9457 `application/problem+json`.
//! This is the only place HTTP statuses are chosen; internal causes are logged, never sent.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::domain::FieldError;

/// RFC 9457 problem details.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary in Japanese and English.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What happened in this case.
    pub detail: String,
    /// Every invalid field (validation errors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The statuses an incident or dispatch may move to (illegal transitions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("second factor required")]
    OtpRequired,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
    #[error("conflict: {0}")]
    Conflict(String),
    /// Another request holds this Idempotency-Key (it committed first): replay its answer.
    #[error("idempotency key in use")]
    IdempotencyKeyInUse,
    #[error("illegal transition: {detail}")]
    IllegalTransition { detail: String, allowed: Vec<String> },
    #[error("precondition required")]
    PreconditionRequired,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn validation(field: &str, message: &str) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    fn parts(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation(_) => ("validation", "入力内容に誤りがあります / Validation failed"),
            ApiError::BadRequest(_) => ("bad-request", "リクエストが不正です / Bad request"),
            ApiError::Unauthorized(_) => ("unauthorized", "認証が必要です / Authentication required"),
            ApiError::OtpRequired => ("otp-required", "ワンタイムパスワードが必要です / One-time password required"),
            ApiError::Forbidden(_) => ("forbidden", "権限がありません / Forbidden"),
            ApiError::NotFound => ("not-found", "見つかりません / Not found"),
            ApiError::MethodNotAllowed { .. } => {
                ("method-not-allowed", "このメソッドは使えません / Method not allowed")
            }
            ApiError::Conflict(_) | ApiError::IdempotencyKeyInUse => ("conflict", "競合しています / Conflict"),
            ApiError::IllegalTransition { .. } => {
                ("illegal-transition", "この状態には移行できません / Transition not allowed")
            }
            ApiError::PreconditionRequired => {
                ("precondition-required", "If-Match ヘッダーが必要です / Precondition required")
            }
            ApiError::PreconditionFailed => {
                ("precondition-failed", "他の更新と競合しました / Precondition failed (stale version)")
            }
            ApiError::PayloadTooLarge => ("payload-too-large", "リクエストが大きすぎます / Payload too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "未対応の形式です / Unsupported media type")
            }
            ApiError::TooManyRequests { .. } => ("too-many-requests", "リクエストが多すぎます / Too many requests"),
            ApiError::Unavailable(_) => ("unavailable", "一時的に利用できません / Service temporarily unavailable"),
            ApiError::Internal(_) => ("internal", "内部エラー / Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Validation(errs) => format!("{} field(s) are invalid", errs.len()),
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::UnsupportedMediaType(d) => d.clone(),
            ApiError::IllegalTransition { detail, .. } => detail.clone(),
            ApiError::OtpRequired => "this account uses two-factor authentication: send `otp`".into(),
            ApiError::IdempotencyKeyInUse => "another request with this Idempotency-Key is under way: retry".into(),
            ApiError::NotFound => "the resource does not exist or is not visible to you".into(),
            ApiError::MethodNotAllowed { allow } => format!("this path answers {allow}"),
            ApiError::PreconditionRequired => "send If-Match with the ETag of the version you changed".into(),
            ApiError::PreconditionFailed => "the resource changed since you read it: reload and retry".into(),
            ApiError::PayloadTooLarge => "the request body exceeds the size limit".into(),
            ApiError::TooManyRequests { retry_after_seconds } => {
                format!("retry after {retry_after_seconds} seconds")
            }
            ApiError::Unavailable(_) => "the database is unreachable; retry shortly".into(),
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".into(),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.parts();
        Problem {
            type_: format!("https://hikeshi.example/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: match self {
                ApiError::Validation(errs) => Some(errs.clone()),
                _ => None,
            },
            allowed: match self {
                ApiError::IllegalTransition { allowed, .. } => Some(allowed.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::OtpRequired => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::IdempotencyKeyInUse | ApiError::IllegalTransition { .. } => {
                StatusCode::CONFLICT
            }
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            ApiError::Unavailable(e) => tracing::warn!(error = %e, "database unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        match self {
            ApiError::Unauthorized(_) | ApiError::OtpRequired => {
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"hikeshi\"")));
            }
            ApiError::TooManyRequests { retry_after_seconds } => {
                res.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            ApiError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
            }
            ApiError::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

/// True when a diesel error means the database could not be reached (503, not 500).
fn is_connection_error(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    match e {
        E::DatabaseError(K::ClosedConnection | K::UnableToSendCommand, _) => true,
        E::BrokenTransactionManager => true,
        E::DatabaseError(_, info) => {
            let m = info.message().to_ascii_lowercase();
            m.contains("terminating connection")
                || m.contains("server closed the connection")
                || m.contains("connection refused")
                || m.contains("no connection to the server")
                || m.contains("does not exist") && m.contains("database")
                || m.contains("disk i/o error")
                || m.contains("unable to open database")
        }
        _ => false,
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match &e {
            E::NotFound => ApiError::NotFound,
            E::DatabaseError(K::UniqueViolation, info) => {
                ApiError::Conflict(format!("already exists ({})", info.constraint_name().unwrap_or("unique")))
            }
            E::DatabaseError(K::ForeignKeyViolation, _) => {
                ApiError::validation("id", "refers to something that does not exist")
            }
            _ if is_connection_error(&e) => ApiError::Unavailable(e.to_string()),
            _ => ApiError::Internal(e.into()),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

/// Maps actix's JSON extractor errors to problem+json (never plain text).
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::PayloadTooLarge,
        J::ContentType => ApiError::UnsupportedMediaType("send Content-Type: application/json".into()),
        J::Deserialize(e) => deserialize_problem(e),
        other => ApiError::BadRequest(format!("unreadable body: {other}")),
    };
    api.into()
}

/// The problem for a body serde could not read: 422 naming the field when the JSON was well formed
/// but did not fit, 400 when it was not JSON.
pub fn deserialize_problem(e: &serde_json::Error) -> ApiError {
    if !e.is_data() {
        return ApiError::BadRequest(format!("malformed JSON: {e}"));
    }
    let msg = e.to_string();
    let names_a_field = msg.starts_with("missing field") || msg.starts_with("unknown field");
    let field = msg.split('`').nth(1).filter(|_| names_a_field).unwrap_or("body").to_owned();
    // serde quotes the offending value ("invalid type: integer `12345678`"): it may be a
    // password, so neither the answer nor the log repeats it. Field names stay.
    let msg = if names_a_field { msg } else { without_quoted_values(&msg) };
    ApiError::Validation(vec![FieldError::new(field, msg)])
}

/// `msg` with every `` `quoted` `` part left out.
fn without_quoted_values(msg: &str) -> String {
    msg.split('`').step_by(2).collect::<Vec<_>>().join("").replace("  ", " ").replace(" ,", ",")
}

/// Maps query-string errors to problem+json.
pub fn query_error(err: actix_web::error::QueryPayloadError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::Validation(vec![FieldError::new("query", err.to_string())]).into()
}

/// Maps path-segment errors to problem+json (a malformed id is simply not found).
pub fn path_error(_err: actix_web::error::PathError, _req: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

pub type ApiResult<T> = Result<T, ApiError>;
