//! An opaque page cursor: where the previous page ended, as the caller hands
//! it back. It encodes the last sort key returned; callers must not rely on that.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::AuditError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    last_sort_key: String,
}

impl Cursor {
    pub(crate) fn after(last_sort_key: impl Into<String>) -> Self {
        Cursor {
            last_sort_key: last_sort_key.into(),
        }
    }

    pub(crate) fn last_sort_key(&self) -> &str {
        &self.last_sort_key
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.last_sort_key.as_bytes()))
    }
}

impl FromStr for Cursor {
    type Err = AuditError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| AuditError::InvalidCursor)?;
        let sk = String::from_utf8(bytes).map_err(|_| AuditError::InvalidCursor)?;
        if sk.is_empty() {
            return Err(AuditError::InvalidCursor);
        }
        Ok(Cursor::after(sk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let cursor = Cursor::after("2026-11-23T09:00:00.000Z#35#abc");
        let text = cursor.to_string();
        assert!(!text.contains('#'));
        assert_eq!(text.parse::<Cursor>().unwrap(), cursor);
        assert!(matches!(
            "not base64!".parse::<Cursor>(),
            Err(AuditError::InvalidCursor)
        ));
        assert!("".parse::<Cursor>().is_err());
    }
}
