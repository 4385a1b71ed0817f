//! Departures from RFC 7643/7644 that real IdP clients make, and the client profiles that
//! decide which of them the server accepts. A tolerance that fires is reported back to the
//! caller so the activity log can say exactly where a client left the RFC; under the
//! `strict` profile the same request gets the RFC error instead.

use serde::{Deserialize, Serialize};

/// One kind of non-RFC input the server knows how to interpret.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Tolerance {
    /// PATCH `op` not in lower case (`"Replace"`): Entra's default job.
    CapitalisedOp,
    /// A boolean sent as a string (`"True"`, `"false"`): Entra's `active`.
    StringBoolean,
    /// A path-less PATCH value with dotted keys (`{"name.givenName": "x"}`): Entra with
    /// `aadOptscim062020`.
    DottedPathKey,
    /// A path-less PATCH value with URN-qualified attribute keys
    /// (`{"urn:…:enterprise:2.0:User:department": "x"}`): Entra.
    UrnPathKey,
    /// The enterprise `manager` sent as a bare id string instead of `{"value": id}`: Entra.
    ManagerAsString,
    /// A filtered `replace`/`add` whose filter matches no value creates it instead of
    /// answering `noTarget`: Entra's `emails[type eq "work"].value`.
    FilteredPathCreatesValue,
    /// `remove` with `path: "members"` and a value list naming the members to remove
    /// (RFC 7644 has no value on remove): Entra's default group job.
    RemoveWithValueList,
    /// A PatchOp request with an empty or missing `Operations` array: Microsoft's SCIM
    /// Validator (not production traffic).
    EmptyOperations,
    /// A path-less PATCH value that echoes the resource's own `id` (readOnly): Okta's
    /// group name sync.
    EchoedId,
    /// A schema URN in `schemas` that the server does not know, ignored (Microsoft's
    /// `…/ADSCIM/2.0/Group` marker).
    UnknownSchemaUrn,
    /// An attribute the schema does not define, dropped instead of rejected.
    UnknownAttribute,
    /// A filter comparison value without quotes (`externalId eq jyoung`): old Entra docs.
    UnquotedFilterValue,
    /// An endpoint path in another case or with a trailing slash (`/users`, `/Users/`):
    /// tenant URLs as people type them (Microsoft's reference server accepts them).
    PathVariant,
}

impl Tolerance {
    pub const ALL: [Tolerance; 13] = [
        Tolerance::CapitalisedOp,
        Tolerance::StringBoolean,
        Tolerance::DottedPathKey,
        Tolerance::UrnPathKey,
        Tolerance::ManagerAsString,
        Tolerance::FilteredPathCreatesValue,
        Tolerance::RemoveWithValueList,
        Tolerance::EmptyOperations,
        Tolerance::EchoedId,
        Tolerance::UnknownSchemaUrn,
        Tolerance::UnknownAttribute,
        Tolerance::UnquotedFilterValue,
        Tolerance::PathVariant,
    ];

    /// The snake_case name (as stored, and in the `X-Scim-Tolerated` header).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// A sentence for the activity log.
    pub fn description(self) -> &'static str {
        match self {
            Tolerance::CapitalisedOp => "PATCH op was not lower-case (Entra's default job)",
            Tolerance::StringBoolean => "a boolean was sent as a string (Entra's \"True\"/\"False\")",
            Tolerance::DottedPathKey => "a path-less PATCH value used dotted keys like \"name.givenName\"",
            Tolerance::UrnPathKey => "a path-less PATCH value used URN-qualified attribute keys",
            Tolerance::ManagerAsString => "manager was sent as a bare id string, not {\"value\": id}",
            Tolerance::FilteredPathCreatesValue => {
                "a filtered PATCH path matched no value; the value was created (RFC: noTarget)"
            }
            Tolerance::RemoveWithValueList => {
                "remove carried a value list instead of a filtered path (Entra's member removal)"
            }
            Tolerance::EmptyOperations => "the PatchOp request had no Operations",
            Tolerance::EchoedId => "a PATCH value echoed the resource's own id (Okta's group name sync)",
            Tolerance::UnknownSchemaUrn => "an unknown schema URN in \"schemas\" was ignored",
            Tolerance::UnknownAttribute => "an attribute the schema does not define was dropped",
            Tolerance::UnquotedFilterValue => "a filter comparison value was not quoted",
            Tolerance::PathVariant => "the endpoint path differed in case or had a trailing slash",
        }
    }
}

/// A SCIM configuration's client profile: which tolerances apply. Stored and seeded by
/// the same snake_case names (strum for the store, serde for the seed file).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Default,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ClientProfile {
    /// What Microsoft Entra ID's provisioning service sends.
    Entra,
    /// What Okta's SCIM client sends.
    Okta,
    /// Pure RFC 7644: every departure is answered with the RFC error.
    Strict,
    /// Every tolerance seen in production traffic of Entra ID and Okta (the default:
    /// accept whatever a real IdP sends).
    #[default]
    Lenient,
    /// `lenient` plus what only test tools and old documentation send: Microsoft's SCIM
    /// Validator (a PatchOp with an empty `Operations` array) and the unquoted filter
    /// values of old Entra docs.
    Validator,
}

impl ClientProfile {
    pub fn allows(self, tolerance: Tolerance) -> bool {
        use Tolerance::*;
        match self {
            ClientProfile::Validator => true,
            ClientProfile::Lenient => !matches!(tolerance, EmptyOperations | UnquotedFilterValue),
            ClientProfile::Strict => false,
            ClientProfile::Entra => matches!(
                tolerance,
                CapitalisedOp
                    | StringBoolean
                    | DottedPathKey
                    | UrnPathKey
                    | ManagerAsString
                    | FilteredPathCreatesValue
                    | RemoveWithValueList
                    | UnknownSchemaUrn
                    | UnknownAttribute
                    | PathVariant
            ),
            ClientProfile::Okta => matches!(tolerance, EchoedId | UnknownAttribute | PathVariant),
        }
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Case-insensitive: `Entra` is `entra`.
impl std::str::FromStr for ClientProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use strum::VariantArray;
        ClientProfile::VARIANTS
            .iter()
            .copied()
            .find(|profile| profile.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = ClientProfile::VARIANTS.iter().map(|p| p.as_str()).collect();
                let (last, rest) = names.split_last().unwrap_or((&"", &[]));
                format!(
                    "unknown client profile {:?} (expected {} or {last})",
                    s.to_ascii_lowercase(),
                    rest.join(", ")
                )
            })
    }
}

/// Collects the tolerances that fired while interpreting one request. The protocol
/// modules call [`Leniency::permit`] at each departure: it records the tolerance and
/// returns true when the profile allows it, false when the caller must answer with the
/// RFC error.
#[derive(Debug, Clone, Default)]
pub struct Leniency {
    pub profile: ClientProfile,
    pub fired: Vec<Tolerance>,
}

impl Leniency {
    pub fn new(profile: ClientProfile) -> Self {
        Leniency {
            profile,
            fired: Vec::new(),
        }
    }

    pub fn permit(&mut self, tolerance: Tolerance) -> bool {
        if !self.profile.allows(tolerance) {
            return false;
        }
        if !self.fired.contains(&tolerance) {
            self.fired.push(tolerance);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_refuses_and_lenient_records_once() {
        let mut strict = Leniency::new(ClientProfile::Strict);
        assert!(!strict.permit(Tolerance::CapitalisedOp));
        assert!(strict.fired.is_empty());

        let mut lenient = Leniency::new(ClientProfile::Lenient);
        assert!(lenient.permit(Tolerance::CapitalisedOp));
        assert!(lenient.permit(Tolerance::CapitalisedOp));
        assert_eq!(lenient.fired, vec![Tolerance::CapitalisedOp]);
    }

    #[test]
    fn okta_profile_does_not_accept_entra_quirks() {
        assert!(ClientProfile::Okta.allows(Tolerance::EchoedId));
        assert!(!ClientProfile::Okta.allows(Tolerance::CapitalisedOp));
        assert!(ClientProfile::Entra.allows(Tolerance::StringBoolean));
        assert!(!ClientProfile::Entra.allows(Tolerance::EchoedId));
    }

    #[test]
    fn only_the_validator_profile_accepts_what_no_production_client_sends() {
        for tolerance in [Tolerance::EmptyOperations, Tolerance::UnquotedFilterValue] {
            assert!(ClientProfile::Validator.allows(tolerance));
            for profile in [ClientProfile::Lenient, ClientProfile::Entra, ClientProfile::Okta] {
                assert!(!profile.allows(tolerance), "{profile:?} {tolerance:?}");
            }
        }
        assert!(Tolerance::ALL.iter().all(|t| ClientProfile::Validator.allows(*t)));
        assert!(ClientProfile::Lenient.allows(Tolerance::CapitalisedOp));
    }

    #[test]
    fn profiles_parse_case_insensitively() {
        assert_eq!("Entra".parse::<ClientProfile>(), Ok(ClientProfile::Entra));
        assert_eq!(
            "Bogus".parse::<ClientProfile>(),
            Err(
                "unknown client profile \"bogus\" (expected entra, okta, strict, lenient or validator)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn tolerances_have_one_name_in_the_log_and_the_header() {
        for tolerance in Tolerance::ALL {
            let serde = serde_json::to_value(tolerance).ok();
            assert_eq!(serde.as_ref().and_then(|v| v.as_str()), Some(tolerance.as_str()));
        }
    }

    #[test]
    fn profiles_have_one_name_in_the_store_and_the_seed_file() {
        use strum::VariantArray;
        for profile in ClientProfile::VARIANTS {
            let serde = serde_json::to_value(profile).ok();
            assert_eq!(serde.as_ref().and_then(|v| v.as_str()), Some(profile.as_str()));
            assert_eq!(profile.as_str().parse::<ClientProfile>(), Ok(*profile));
        }
    }
}
