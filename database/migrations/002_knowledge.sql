-- Knowledge base: stored files, searchable chunks, the embedder of record, and events.

-- Full-text search covers the chunk's title (file name and headings, weight A) as well
-- as its text (weight D), so the application computes it when it writes the chunk.
drop index if exists public.document_chunks_fts_idx;
alter table public.document_chunks drop column if exists fts;
alter table public.document_chunks add column if not exists fts tsvector not null default ''::tsvector;
-- "file name > heading > subheading": shown in citations, searched with weight A. Kept on
-- the chunk so that visitors' searches never need the documents table.
alter table public.document_chunks add column if not exists title text not null default '';
create index if not exists document_chunks_fts_idx on public.document_chunks using gin (fts);
create index if not exists document_chunks_document_idx on public.document_chunks (document_id, ordinal);

alter table public.documents add column if not exists sha256 text;
alter table public.documents add column if not exists storage text not null default 'postgres'
  check (storage in ('postgres', 'supabase'));
create index if not exists documents_website_sha_idx on public.documents (website_id, sha256);

-- Original files, when stored in Postgres (the default).
create table if not exists public.document_files (
  document_id  uuid primary key references public.documents (id) on delete cascade,
  website_id   uuid not null references public.websites (id) on delete cascade,
  data         bytea not null
);
alter table public.document_files enable row level security;
drop policy if exists document_files_owner on public.document_files;
create policy document_files_owner on public.document_files for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
revoke all on public.document_files from anon, authenticated;
grant select, insert, delete on public.document_files to authenticated;
grant all on public.document_files to service_role;

-- Owners create jobs together with their documents (the worker runs as service_role).
drop policy if exists jobs_owner on public.jobs;
create policy jobs_owner on public.jobs for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
grant select, insert on public.jobs to authenticated;

-- The embedder whose vectors are stored: a server with another one refuses to start.
create table if not exists public.embedding_settings (
  singleton  boolean primary key default true check (singleton),
  model      text not null,
  dimension  integer not null check (dimension > 0),
  updated_at timestamptz not null default now()
);
alter table public.embedding_settings enable row level security;
grant all on public.embedding_settings to service_role;

-- Every document status change is announced, whichever process made it.
create or replace function public.announce_document_status() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' or new.status is distinct from old.status then
    perform pg_notify('askbase_documents', json_build_object(
      'id', new.id, 'website_id', new.website_id, 'status', new.status)::text);
  end if;
  return new;
end
$$;
drop trigger if exists documents_announce_status on public.documents;
create trigger documents_announce_status after insert or update of status on public.documents
  for each row execute function public.announce_document_status();

-- New work wakes the workers at once (they also poll, in case a notice is missed).
create or replace function public.announce_job() returns trigger
language plpgsql as $$
begin
  perform pg_notify('askbase_jobs', new.id::text);
  return new;
end
$$;
drop trigger if exists jobs_announce on public.jobs;
create trigger jobs_announce after insert on public.jobs
  for each row execute function public.announce_job();
