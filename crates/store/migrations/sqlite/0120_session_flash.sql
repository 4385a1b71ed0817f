-- The flash line an Account Center action leaves for the next page of the same session
-- (JSON: {"notice"} or {"error"}), taken by the first page that shows it. Kept here, not
-- in the redirect's query string, so a crafted link cannot show a genuine-looking alert.
alter table admin_sessions add column flash text;
