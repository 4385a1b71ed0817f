-- What a successful PATCH answers for this configuration: 'resource' (200 with the
-- resource) or 'no_content' (204; Entra advises it for group PATCH).
alter table scim_configurations add column patch_response text not null default 'resource';
