//! Byte payloads on the JSON wire: base64 (standard alphabet, padded) via serde `with` modules.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer};

/// `#[serde(with = "b64")]` for `Vec<u8>`.
pub mod b64 {
    use super::*;

    /// Writes bytes as base64 text.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    /// Reads base64 text into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }

    /// `#[serde(with = "b64::option")]` for `Option<Vec<u8>>`.
    pub mod option {
        use super::*;

        /// Writes optional bytes as base64 text or null.
        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, serializer: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => serializer.serialize_str(&STANDARD.encode(bytes)),
                None => serializer.serialize_none(),
            }
        }

        /// Reads base64 text or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}
