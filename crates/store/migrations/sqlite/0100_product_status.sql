-- Per-product status (docs/licensing.md, "Per-product status"): what each product's IdP
-- last wrote to `active`, as a JSON object (product -> boolean) in the user row, so a
-- read stays one row. `active` (and the document's) is the person's: true while any
-- product holds them active.
alter table users add column products text not null default '{}';

-- Users licensed before: each product they hold a license of starts from their status.
update users set products = (
    select json_group_object(a.product, json(case when users.active then 'true' else 'false' end))
    from license_assignments a where a.user_id = users.id
)
where exists (select 1 from license_assignments a where a.user_id = users.id);
