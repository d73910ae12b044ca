-- Tenants, chats and messages. Runs unchanged in the Supabase SQL editor.
-- Owners are Supabase users (role authenticated, auth.uid() = their user id).
-- Visitors carry a token minted by askbase (role anon) whose claims hold
-- sub = visitor id and website_id = the one website they may talk to.

create table if not exists public.websites (
  id              uuid primary key default gen_random_uuid(),
  owner_id        uuid not null default auth.uid(),
  domain          text not null check (char_length(domain) between 1 and 253),
  name            text not null check (char_length(name) between 1 and 200),
  settings        jsonb not null default '{}'::jsonb,   -- public: title, welcome, questions, theme
  system_prompt   text,                                  -- owner-only columns from here
  model           text,
  temperature     double precision,
  allowed_origins text[] not null default '{}',
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  unique (owner_id, domain)
);
create index if not exists websites_owner_created_idx on public.websites (owner_id, created_at, id);

create table if not exists public.chats (
  id          uuid primary key default gen_random_uuid(),
  website_id  uuid not null references public.websites (id) on delete cascade,
  visitor_id  uuid,            -- null when the owner opened the chat
  title       text check (char_length(title) <= 200),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create index if not exists chats_website_created_idx on public.chats (website_id, created_at desc, id desc);
create index if not exists chats_visitor_idx on public.chats (website_id, visitor_id, created_at desc, id desc);

create table if not exists public.messages (
  id          uuid primary key default gen_random_uuid(),
  chat_id     uuid not null references public.chats (id) on delete cascade,
  website_id  uuid not null references public.websites (id) on delete cascade,
  role        text not null check (role in ('user', 'assistant', 'system')),
  content     text not null,
  status      text not null default 'complete'
              check (status in ('complete', 'streaming', 'incomplete', 'failed')),
  sources     jsonb not null default '[]'::jsonb,
  usage       jsonb,
  created_at  timestamptz not null default clock_timestamp()
);
create index if not exists messages_chat_created_idx on public.messages (chat_id, created_at, id);
create index if not exists messages_website_created_idx on public.messages (website_id, created_at);

-- A message belongs to its chat's website: denormalized for policies and usage queries,
-- and checked here so it can never disagree.
create or replace function public.messages_website_matches_chat() returns trigger
language plpgsql as $$
begin
  if new.website_id is distinct from (select c.website_id from public.chats c where c.id = new.chat_id) then
    raise exception 'message website does not match its chat' using errcode = '23514';
  end if;
  return new;
end
$$;
drop trigger if exists messages_website_matches_chat on public.messages;
create trigger messages_website_matches_chat before insert or update of chat_id, website_id
  on public.messages for each row execute function public.messages_website_matches_chat();

create table if not exists public.documents (
  id            uuid primary key default gen_random_uuid(),
  website_id    uuid not null references public.websites (id) on delete cascade,
  filename      text not null check (char_length(filename) between 1 and 255),
  content_type  text not null,
  size_bytes    bigint not null check (size_bytes >= 0),
  status        text not null default 'pending'
                check (status in ('pending', 'processing', 'ready', 'failed')),
  error         text,
  chunk_count   integer not null default 0,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index if not exists documents_website_created_idx on public.documents (website_id, created_at desc, id desc);

create table if not exists public.document_chunks (
  id            uuid primary key default gen_random_uuid(),
  document_id   uuid not null references public.documents (id) on delete cascade,
  website_id    uuid not null references public.websites (id) on delete cascade,
  ordinal       integer not null,
  content       text not null,
  heading_path  text[] not null default '{}',
  embedding     vector(384),
  fts           tsvector generated always as (to_tsvector('english', content)) stored,
  unique (document_id, ordinal)
);
create index if not exists document_chunks_website_idx on public.document_chunks (website_id);
create index if not exists document_chunks_fts_idx on public.document_chunks using gin (fts);
create index if not exists document_chunks_embedding_idx
  on public.document_chunks using hnsw (embedding vector_cosine_ops);

create table if not exists public.jobs (
  id           uuid primary key default gen_random_uuid(),
  document_id  uuid not null references public.documents (id) on delete cascade,
  website_id   uuid not null references public.websites (id) on delete cascade,
  kind         text not null default 'ingest',
  status       text not null default 'queued'
               check (status in ('queued', 'running', 'done', 'failed')),
  attempts     integer not null default 0,
  run_after    timestamptz not null default now(),
  locked_by    text,
  locked_at    timestamptz,
  error        text,
  created_at   timestamptz not null default now()
);
create index if not exists jobs_claim_idx on public.jobs (status, run_after) where status = 'queued';

-- Row-level security: the database itself keeps tenants apart.
alter table public.websites        enable row level security;
alter table public.chats           enable row level security;
alter table public.messages        enable row level security;
alter table public.documents       enable row level security;
alter table public.document_chunks enable row level security;
alter table public.jobs            enable row level security;

-- Claims of an askbase visitor token: the one website it is scoped to.
create or replace function public.visitor_website_id() returns uuid
language sql stable as $$
  select nullif(auth.jwt() ->> 'website_id', '')::uuid
$$;

drop policy if exists websites_owner on public.websites;
create policy websites_owner on public.websites for all to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));
drop policy if exists websites_visitor on public.websites;
create policy websites_visitor on public.websites for select to anon
  using (id = (select public.visitor_website_id()));

drop policy if exists chats_owner on public.chats;
create policy chats_owner on public.chats for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists chats_visitor on public.chats;
create policy chats_visitor on public.chats for all to anon
  using (website_id = (select public.visitor_website_id()) and visitor_id = (select auth.uid()))
  with check (website_id = (select public.visitor_website_id()) and visitor_id = (select auth.uid()));

drop policy if exists messages_owner on public.messages;
create policy messages_owner on public.messages for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists messages_visitor on public.messages;
create policy messages_visitor on public.messages for all to anon
  using (
    website_id = (select public.visitor_website_id())
    and chat_id in (select c.id from public.chats c where c.visitor_id = (select auth.uid()))
  )
  with check (
    website_id = (select public.visitor_website_id())
    and chat_id in (select c.id from public.chats c where c.visitor_id = (select auth.uid()))
  );

drop policy if exists documents_owner on public.documents;
create policy documents_owner on public.documents for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));

drop policy if exists document_chunks_owner on public.document_chunks;
create policy document_chunks_owner on public.document_chunks for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists document_chunks_visitor on public.document_chunks;
create policy document_chunks_visitor on public.document_chunks for select to anon
  using (website_id = (select public.visitor_website_id()));

drop policy if exists jobs_owner on public.jobs;
create policy jobs_owner on public.jobs for select to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));

-- Privileges. Visitors may read only the public columns of their website.
grant usage on schema public to anon, authenticated, service_role;
revoke all on public.websites, public.chats, public.messages, public.documents,
  public.document_chunks, public.jobs from anon, authenticated;
grant select, insert, update, delete on public.websites, public.chats, public.messages,
  public.documents, public.document_chunks to authenticated;
grant select on public.jobs to authenticated;
grant select (id, domain, name, settings, allowed_origins, created_at) on public.websites to anon;
grant select, insert, update, delete on public.chats to anon;
grant select, insert, update on public.messages to anon;
grant select on public.document_chunks to anon;
grant all on public.websites, public.chats, public.messages, public.documents,
  public.document_chunks, public.jobs to service_role;
