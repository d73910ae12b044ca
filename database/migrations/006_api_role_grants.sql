-- The API roles get nothing on askbase's own bookkeeping. On Supabase, default privileges
-- grant anon and authenticated everything on each table the owner creates in public.
-- The earlier migrations revoke that on every tenant table, but not on these two, so a
-- request role could TRUNCATE them (row-level security does not apply to TRUNCATE), lock
-- them, or add triggers to them. Elsewhere (plain PostgreSQL, the embedded database),
-- nothing was granted and this revokes nothing. service_role keeps its access.
revoke all on public.askbase_migrations, public.embedding_settings from anon, authenticated;
