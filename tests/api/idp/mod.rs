//! Vendor replays: the request sequences Entra ID's provisioning service and Okta's SCIM
//! 2.0 SPEC test send, in their order, asserting what each client checks
//! (shared/reference/idp-clients.md).

mod entra;
mod okta;
