//! Typed ids for what crosses layers (HTTP → domain → store): an account id cannot be
//! passed where a user id is expected. Ids are opaque strings (v4 UUIDs when generated
//! here); `Deref<Target = str>` lets SQL binds and formatting read them as text.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of one kind of thing (`K` is a marker type naming the kind).
pub struct Id<K> {
    value: String,
    kind: PhantomData<fn() -> K>,
}

impl<K> Id<K> {
    pub fn new(value: impl Into<String>) -> Self {
        Id {
            value: value.into(),
            kind: PhantomData,
        }
    }

    /// A fresh random id.
    pub fn generate() -> Self {
        Self::new(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn into_string(self) -> String {
        self.value
    }
}

impl<K> std::ops::Deref for Id<K> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.value
    }
}

impl<K> AsRef<str> for Id<K> {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        Self::new(self.value.clone())
    }
}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<K> Eq for Id<K> {}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<K> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<K> From<String> for Id<K> {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl<K> From<&str> for Id<K> {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl<K> From<Id<K>> for String {
    fn from(id: Id<K>) -> String {
        id.value
    }
}

impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.value)
    }
}

impl<'de, K> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// Ids are stored as text: bound and read like `String`.
#[cfg(feature = "sqlx")]
impl<K, DB: sqlx::Database> sqlx::Type<DB> for Id<K>
where
    String: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as sqlx::Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as sqlx::Type<DB>>::compatible(ty)
    }
}

#[cfg(feature = "sqlx")]
impl<'q, K, DB: sqlx::Database> sqlx::Encode<'q, DB> for Id<K>
where
    String: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut DB::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str().to_owned(), buf)
    }
}

#[cfg(feature = "sqlx")]
impl<'r, K, DB: sqlx::Database> sqlx::Decode<'r, DB> for Id<K>
where
    String: sqlx::Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <String as sqlx::Decode<'r, DB>>::decode(value).map(Id::new)
    }
}

/// In the admin API's OpenAPI document an id is a string.
#[cfg(feature = "utoipa")]
impl<K> utoipa::PartialSchema for Id<K> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        String::schema()
    }
}

#[cfg(feature = "utoipa")]
impl<K> utoipa::ToSchema for Id<K> {}

/// Marker types naming what an [`Id`] identifies.
pub mod kinds {
    pub enum Account {}
    pub enum Configuration {}
    pub enum User {}
    pub enum Group {}
    pub enum Instance {}
    pub enum Pool {}
}

/// An account (tenant).
pub type AccountId = Id<kinds::Account>;
/// A SCIM configuration (owner of a token).
pub type ConfigurationId = Id<kinds::Configuration>;
pub type UserId = Id<kinds::User>;
pub type GroupId = Id<kinds::Group>;
/// An application instance (one product contract).
pub type InstanceId = Id<kinds::Instance>;
/// A license pool.
pub type PoolId = Id<kinds::Pool>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_text_and_serialize_as_strings() {
        let id = UserId::from("u-1");
        assert_eq!(id.as_str(), "u-1");
        assert_eq!(&*id, "u-1");
        assert_eq!(id.to_string(), "u-1");
        assert_eq!(format!("{id:?}"), "\"u-1\"");
        assert_eq!(serde_json::to_value(&id).ok(), Some(serde_json::json!("u-1")));
        let back: UserId = serde_json::from_value(serde_json::json!("u-1")).expect("id");
        assert_eq!(back, id);
        assert_ne!(UserId::generate(), UserId::generate());
    }
}
