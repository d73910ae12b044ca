-- A database prepared the way a hosted Supabase project's database is, for tests of
-- askbase as it runs there. Sources (paraphrased, not copied): supabase/postgres
-- migrations/db/init-scripts/00000000000000-initial-schema.sql, ...01-auth-schema.sql,
-- ...03-post-setup.sql, migrations/db/migrate.sh, and migrations/db/migrations/
-- 10000000000000_demote-postgres, 20211115181400_update-auth-permissions,
-- 20220609081115_grant-supabase-auth-admin-..., 20221028101028_set_authenticator_timeout,
-- 20230201083204_grant_auth_roles_to_postgres, 20230224042246_grant_extensions_perms_
-- for_postgres, 20230529180330_alter_api_roles_for_inherit, 20231130133139_set_lock_
-- timeout_to_authenticator_role; the auth.* helpers as supabase/auth's migration
-- 20240624145325_recreate_auth_functions defines them today.
--
-- Run it as a superuser, connected to the database that plays the project's database.
-- Roles belong to the whole cluster, so the role statements are guarded: the script may
-- be applied to several databases of one server, each then set up like a project.
--
-- Names. The embedded server's bootstrap superuser is itself called `postgres`; it plays
-- Supabase's `supabase_admin` (the platform's superuser, which owns what the platform
-- installs). Supabase's `postgres` role, the NON-superuser that a project's owner and
-- its migrations connect as, is played by `supabase_owner`.
-- Left out: what askbase never touches (storage, realtime, graphql, pg_net, pg_cron,
-- pgsodium/vault, the auth tables) and extensions this build does not ship
-- (uuid-ossp, pgcrypto, pgjwt).

-- The API roles PostgREST switches to: no login, reached only through authenticator.
-- Created noinherit, made inherit by 20230529180330; service_role bypasses RLS.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin bypassrls;
  end if;
  -- PostgREST's login role: it may become any API role, but holds none of their rights.
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  -- GoTrue's role, owner of the auth schema and its functions.
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole noreplication;
  end if;
  -- Supabase's `postgres` after 10000000000000_demote-postgres: no superuser, but it may
  -- create databases and roles, replicate, and bypass row-level security.
  if not exists (select 1 from pg_roles where rolname = 'supabase_owner') then
    create role supabase_owner login nosuperuser createdb createrole replication bypassrls;
  end if;
end
$$;
alter role anon inherit;
alter role authenticated inherit;
alter role service_role inherit;

grant anon, authenticated, service_role to authenticator;
-- 20230201083204 grants the API roles to postgres. On PostgreSQL 16 and later a role
-- with CREATEROLE may grant or set only roles it holds with the admin option, which is
-- what Supabase's postgres has on these (it created them while still a superuser).
grant anon, authenticated, service_role to supabase_owner with admin option;
grant supabase_auth_admin to supabase_owner;
grant pg_read_all_data, pg_signal_backend, pg_monitor to supabase_owner;

alter role supabase_owner set search_path to "$user", public, extensions;
alter role supabase_auth_admin set search_path to auth;

-- Short timeouts for the API roles, and for PostgREST's connections.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';
alter role authenticator set statement_timeout = '8s';
alter role authenticator set lock_timeout = '8s';

-- migrate.sh makes postgres the owner of the project's database. On PostgreSQL 15 and
-- later, CREATE on schema public belongs to pg_database_owner only: owning the database
-- is what lets supabase_owner create tables in public, as Supabase's postgres can.
do $$
begin
  execute format('alter database %I owner to supabase_owner', current_database());
  execute format('grant all on database %I to supabase_owner', current_database());
end
$$;

-- Schema public: every API role may use it, and whatever the platform (supabase_admin,
-- here the superuser running this script) or the project's owner creates in it is
-- granted in full to all of them. Row-level security and explicit revokes are what keep
-- tenants apart, not grants.
grant usage on schema public to supabase_owner, anon, authenticated, service_role;
alter default privileges in schema public
  grant all on tables to supabase_owner, anon, authenticated, service_role;
alter default privileges in schema public
  grant all on functions to supabase_owner, anon, authenticated, service_role;
alter default privileges in schema public
  grant all on sequences to supabase_owner, anon, authenticated, service_role;
alter default privileges for role supabase_owner in schema public
  grant all on tables to anon, authenticated, service_role;
alter default privileges for role supabase_owner in schema public
  grant all on functions to anon, authenticated, service_role;
alter default privileges for role supabase_owner in schema public
  grant all on sequences to anon, authenticated, service_role;

-- Schema extensions: where the dashboard installs extensions, as supabase_admin. The
-- owner gets everything in it, with grant option (20230224042246).
create schema if not exists extensions;
grant usage on schema extensions to supabase_owner, anon, authenticated, service_role;
grant all on schema extensions to supabase_owner;
alter default privileges in schema extensions
  grant all on tables to supabase_owner with grant option;
alter default privileges in schema extensions
  grant all on routines to supabase_owner with grant option;
alter default privileges in schema extensions
  grant all on sequences to supabase_owner with grant option;
-- Database > Extensions > vector, which runs this as supabase_admin.
create extension if not exists vector with schema extensions;
grant all on all tables in schema extensions to supabase_owner with grant option;
grant all on all routines in schema extensions to supabase_owner with grant option;
grant all on all sequences in schema extensions to supabase_owner with grant option;

-- Schema auth, owned by supabase_auth_admin. The helpers read the claims PostgREST sets:
-- one setting per claim (request.jwt.claim.sub, PostgREST before v9) or, today, all of
-- them as JSON in request.jwt.claims.
create schema if not exists auth authorization supabase_auth_admin;

create or replace function auth.uid() returns uuid
language sql stable set search_path to '' as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable set search_path to '' as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
  )::text
$$;

create or replace function auth.email() returns text
language sql stable set search_path to '' as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable set search_path to '' as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;

grant usage on schema auth to anon, authenticated, service_role;
grant all on schema auth to supabase_auth_admin, supabase_owner;
grant all on all routines in schema auth to supabase_owner;
