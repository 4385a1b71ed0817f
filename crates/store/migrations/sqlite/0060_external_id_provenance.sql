-- Which SCIM configuration last set a user's externalId, so that a second product's
-- IdP changing it is reported (docs/fidelity.md, "Identifier clashes"). Cleared when the
-- configuration goes.
alter table users add column external_id_set_by text references scim_configurations (id) on delete set null;
