-- Corpus statistics for BM25 ranking of the full-text side of hybrid search: per website,
-- how many chunks hold each lexeme (for its inverse document frequency), and how many
-- chunks and lexemes there are in all (for length normalization). Triggers keep them
-- exact as chunks come and go, whatever deletes them (a re-ingestion, a document or
-- website delete), once per statement.

create table if not exists public.chunk_lexemes (
  website_id uuid not null references public.websites (id) on delete cascade,
  lexeme text not null,
  chunks integer not null,
  primary key (website_id, lexeme)
);

create table if not exists public.chunk_stats (
  website_id uuid primary key references public.websites (id) on delete cascade,
  chunks integer not null,
  lexemes bigint not null
);

create or replace function public.count_chunk_lexemes() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    insert into public.chunk_lexemes as l (website_id, lexeme, chunks)
      select n.website_id, x.lexeme, count(*)
      from new_rows n, unnest(tsvector_to_array(n.fts)) as x(lexeme)
      group by 1, 2
      order by 1, 2  -- one lock order for concurrent writers
      on conflict (website_id, lexeme) do update set chunks = l.chunks + excluded.chunks;
    insert into public.chunk_stats as s (website_id, chunks, lexemes)
      select n.website_id, count(*), sum(length(n.fts)) from new_rows n group by 1 order by 1
      on conflict (website_id) do update
        set chunks = s.chunks + excluded.chunks, lexemes = s.lexemes + excluded.lexemes;
  else
    with gone as (
      select o.website_id, x.lexeme, count(*) as n
      from old_rows o, unnest(tsvector_to_array(o.fts)) as x(lexeme)
      group by 1, 2
      order by 1, 2
    )
    update public.chunk_lexemes l set chunks = l.chunks - g.n
      from gone g where l.website_id = g.website_id and l.lexeme = g.lexeme;
    delete from public.chunk_lexemes l
      where l.chunks <= 0 and (l.website_id, l.lexeme) in (
        select o.website_id, x.lexeme from old_rows o, unnest(tsvector_to_array(o.fts)) as x(lexeme)
      );
    update public.chunk_stats s set chunks = s.chunks - g.n, lexemes = s.lexemes - g.total
      from (select o.website_id, count(*) as n, sum(length(o.fts)) as total
            from old_rows o group by 1) g
      where s.website_id = g.website_id;
  end if;
  return null;
end $$;

drop trigger if exists document_chunks_count_insert on public.document_chunks;
create trigger document_chunks_count_insert after insert on public.document_chunks
  referencing new table as new_rows for each statement
  execute function public.count_chunk_lexemes();
drop trigger if exists document_chunks_count_delete on public.document_chunks;
create trigger document_chunks_count_delete after delete on public.document_chunks
  referencing old table as old_rows for each statement
  execute function public.count_chunk_lexemes();

-- Chunks stored before this migration.
insert into public.chunk_lexemes (website_id, lexeme, chunks)
  select c.website_id, x.lexeme, count(*)
  from public.document_chunks c, unnest(tsvector_to_array(c.fts)) as x(lexeme)
  group by 1, 2
  on conflict do nothing;
insert into public.chunk_stats (website_id, chunks, lexemes)
  select website_id, count(*), sum(length(fts)) from public.document_chunks group by 1
  on conflict do nothing;

-- Readable by whoever may search the website's chunks; written only by the triggers.
alter table public.chunk_lexemes enable row level security;
alter table public.chunk_stats enable row level security;
drop policy if exists chunk_lexemes_owner on public.chunk_lexemes;
create policy chunk_lexemes_owner on public.chunk_lexemes for select to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists chunk_lexemes_visitor on public.chunk_lexemes;
create policy chunk_lexemes_visitor on public.chunk_lexemes for select to anon
  using (website_id = (select public.visitor_website_id()));
drop policy if exists chunk_stats_owner on public.chunk_stats;
create policy chunk_stats_owner on public.chunk_stats for select to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists chunk_stats_visitor on public.chunk_stats;
create policy chunk_stats_visitor on public.chunk_stats for select to anon
  using (website_id = (select public.visitor_website_id()));
revoke all on public.chunk_lexemes, public.chunk_stats from anon, authenticated;
grant select on public.chunk_lexemes, public.chunk_stats to anon, authenticated;
grant all on public.chunk_lexemes, public.chunk_stats to service_role;
revoke all on function public.count_chunk_lexemes() from public, anon, authenticated;
