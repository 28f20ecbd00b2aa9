//! One-line descriptions of AWS SDK errors for logs and error messages.
//!
//! The SDK's full error display includes the raw HTTP response; an operator
//! needs the service's code and message, which is what this keeps.

use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `Code: message` for a service error, else the error with its causes.
pub fn describe<E>(error: &E) -> String
where
    E: ProvideErrorMetadata + std::error::Error,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// The service's error code, if the service answered.
pub fn code<E: ProvideErrorMetadata>(error: &E) -> Option<&str> {
    error.code()
}
