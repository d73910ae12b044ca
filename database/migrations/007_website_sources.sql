-- Website sources: a site fed by URL (crawl, sitemap or one page) into ordinary documents,
-- one per page, each carrying its page URL for citations.

create table if not exists public.website_sources (
  id                  uuid primary key default gen_random_uuid(),
  website_id          uuid not null references public.websites (id) on delete cascade,
  url                 text not null check (char_length(url) between 1 and 2048),
  kind                text not null default 'crawl' check (kind in ('crawl', 'sitemap', 'page')),
  include_patterns    text[] not null default '{}',
  exclude_patterns    text[] not null default '{}',
  max_pages           integer not null default 500 check (max_pages > 0),
  resync_every_hours  integer check (resync_every_hours > 0),
  state               text not null default 'queued'
                      check (state in ('idle', 'queued', 'syncing', 'failed')),
  sync_started_at     timestamptz,           -- of the running sync, else of the last one
  last_synced_at      timestamptz,
  next_sync_at        timestamptz,
  error               text,
  created_at          timestamptz not null default now()
);
create index if not exists website_sources_website_idx
  on public.website_sources (website_id, created_at);
create index if not exists website_sources_due_idx
  on public.website_sources (next_sync_at) where next_sync_at is not null;

create table if not exists public.source_pages (
  id             uuid primary key default gen_random_uuid(),
  source_id      uuid not null references public.website_sources (id) on delete cascade,
  website_id     uuid not null references public.websites (id) on delete cascade,
  url            text not null,
  title          text,
  state          text not null default 'pending'
                 check (state in ('pending', 'stored', 'unchanged', 'skipped', 'failed', 'removed')),
  http_status    integer,
  error          text,
  etag           text,
  last_modified  text,
  sha256         text,
  links          text[],                     -- for a re-crawl of an unchanged page
  sync_at        timestamptz,                -- the sync that last touched the page
  fetched_at     timestamptz,
  document_id    uuid references public.documents (id) on delete set null,
  created_at     timestamptz not null default now(),
  unique (source_id, url)
);
create index if not exists source_pages_source_idx
  on public.source_pages (source_id, created_at, id);

alter table public.documents add column if not exists source_url text;
-- Heading text -> the id of its anchor in the page, so that citations open the section.
alter table public.documents add column if not exists source_anchors jsonb;
-- Visitors' searches read chunks only: the page URL (with the #anchor of the chunk's
-- deepest heading that has one) is kept on each chunk as well.
alter table public.document_chunks add column if not exists url text;

create or replace function public.chunk_source_url() returns trigger
language plpgsql as $$
begin
  if new.url is null then
    new.url := (
      select d.source_url || coalesce('#' || (
        select d.source_anchors ->> t.heading
        from unnest(new.heading_path) with ordinality as t(heading, n)
        where d.source_anchors ? t.heading
        order by t.n desc limit 1), '')
      from public.documents d where d.id = new.document_id);
  end if;
  return new;
end
$$;
drop trigger if exists document_chunks_source_url on public.document_chunks;
create trigger document_chunks_source_url before insert on public.document_chunks
  for each row execute function public.chunk_source_url();

-- A sync is a job of kind 'sync' with a source instead of a document; at most one queued
-- or running sync per source, whichever instance enqueues it.
alter table public.jobs alter column document_id drop not null;
alter table public.jobs add column if not exists source_id uuid
  references public.website_sources (id) on delete cascade;
create unique index if not exists jobs_one_sync_per_source
  on public.jobs (source_id) where kind = 'sync' and status in ('queued', 'running');

alter table public.website_sources enable row level security;
alter table public.source_pages enable row level security;

drop policy if exists website_sources_owner on public.website_sources;
create policy website_sources_owner on public.website_sources for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists source_pages_owner on public.source_pages;
create policy source_pages_owner on public.source_pages for select to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));

revoke all on public.website_sources, public.source_pages from anon, authenticated;
grant select, insert, update, delete on public.website_sources to authenticated;
grant select on public.source_pages to authenticated;
grant all on public.website_sources, public.source_pages to service_role;
