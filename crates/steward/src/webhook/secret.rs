//! The webhook secret, current and previous, so a rotation does not break
//! deliveries signed with the old value while the forge is being updated.

/// The accepted secrets. `Debug` never prints them: they must not reach a log.
#[derive(Clone)]
pub struct Secrets {
    current: Vec<u8>,
    previous: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// An empty HMAC key is public knowledge: anyone could sign with it.
    #[error("the current webhook secret is empty")]
    Empty,
}

impl Secrets {
    /// The current secret and, during a rotation, the previous one. An empty
    /// previous value counts as none.
    pub fn new(
        current: impl Into<Vec<u8>>,
        previous: Option<impl Into<Vec<u8>>>,
    ) -> Result<Self, SecretError> {
        let current = current.into();
        if current.is_empty() {
            return Err(SecretError::Empty);
        }
        let previous = previous.map(Into::into).filter(|p| !p.is_empty());
        Ok(Self { current, previous })
    }

    /// Every accepted secret, current first.
    pub fn accepted(&self) -> impl Iterator<Item = &[u8]> {
        std::iter::once(self.current.as_slice()).chain(self.previous.as_deref())
    }

    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret_and_empty_is_refused() {
        let secrets = Secrets::new("s3cr3t-current", Some("s3cr3t-previous")).unwrap();
        let shown = format!("{secrets:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(secrets.accepted().count(), 2);
        assert_eq!(
            Secrets::new("", None::<&str>).unwrap_err(),
            SecretError::Empty
        );
        assert!(!Secrets::new("x", Some("")).unwrap().has_previous());
    }
}
