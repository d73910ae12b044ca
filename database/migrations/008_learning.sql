-- Learning from conversations: how well each answer was supported, visitors' ratings, and
-- the questions that were not answered well, grouped by meaning as they are stored.

-- An assistant message's confidence (0..1, app/chat/confidence.py) and whether the model
-- declined to answer. "No sources" is an empty `sources` array.
alter table public.messages add column if not exists confidence double precision
  check (confidence between 0 and 1);
alter table public.messages add column if not exists declined boolean not null default false;
create index if not exists messages_website_role_created_idx
  on public.messages (website_id, role, created_at);

-- One rating per assistant message: rating again replaces it.
create table if not exists public.message_feedback (
  message_id  uuid primary key references public.messages (id) on delete cascade,
  chat_id     uuid not null references public.chats (id) on delete cascade,
  website_id  uuid not null references public.websites (id) on delete cascade,
  rating      text not null check (rating in ('up', 'down')),
  comment     text check (char_length(comment) <= 1000),
  created_at  timestamptz not null default now()
);
create index if not exists message_feedback_website_created_idx
  on public.message_feedback (website_id, created_at);

-- Feedback is on an assistant message that the writer can see, of the same chat and website.
create or replace function public.message_feedback_matches_message() returns trigger
language plpgsql as $$
begin
  if not exists (
    select 1 from public.messages m
    where m.id = new.message_id and m.chat_id = new.chat_id
      and m.website_id = new.website_id and m.role = 'assistant'
  ) then
    raise exception 'feedback must rate an assistant message of its chat' using errcode = '23514';
  end if;
  return new;
end
$$;
drop trigger if exists message_feedback_matches_message on public.message_feedback;
create trigger message_feedback_matches_message before insert or update
  on public.message_feedback for each row execute function public.message_feedback_matches_message();

-- A knowledge gap: questions close in meaning (cosine similarity of their embeddings to the
-- group's centroid) that were not answered well. The centroid is the normalized running
-- mean of the members' embeddings; `size` is how many went into it.
create table if not exists public.knowledge_gaps (
  id           uuid primary key default gen_random_uuid(),
  website_id   uuid not null references public.websites (id) on delete cascade,
  question     text not null,              -- the member closest to the centroid
  centroid     vector not null,
  size         integer not null default 0,
  resolved_at  timestamptz,                -- cleared when the question is asked again
  created_at   timestamptz not null default now()
);
create index if not exists knowledge_gaps_website_idx on public.knowledge_gaps (website_id);

-- One row per badly answered question (its assistant message), with its reasons.
create table if not exists public.knowledge_gap_questions (
  message_id  uuid primary key references public.messages (id) on delete cascade,
  gap_id      uuid not null references public.knowledge_gaps (id) on delete cascade,
  website_id  uuid not null references public.websites (id) on delete cascade,
  question    text not null,
  embedding   vector not null,
  reasons     text[] not null
              check (reasons <@ array['no_sources', 'low_confidence', 'declined', 'rated_down']),
  asked_at    timestamptz not null
);
create index if not exists knowledge_gap_questions_website_asked_idx
  on public.knowledge_gap_questions (website_id, asked_at, gap_id);
create index if not exists knowledge_gap_questions_gap_idx
  on public.knowledge_gap_questions (gap_id);

alter table public.message_feedback        enable row level security;
alter table public.knowledge_gaps          enable row level security;
alter table public.knowledge_gap_questions enable row level security;

drop policy if exists message_feedback_owner on public.message_feedback;
create policy message_feedback_owner on public.message_feedback for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists message_feedback_visitor on public.message_feedback;
create policy message_feedback_visitor on public.message_feedback for all to anon
  using (
    website_id = (select public.visitor_website_id())
    and chat_id in (select c.id from public.chats c where c.visitor_id = (select auth.uid()))
  )
  with check (
    website_id = (select public.visitor_website_id())
    and chat_id in (select c.id from public.chats c where c.visitor_id = (select auth.uid()))
  );

-- Gaps are the owner's alone; they are written by the service (grouping needs every
-- question of the website, whoever asked it).
drop policy if exists knowledge_gaps_owner on public.knowledge_gaps;
create policy knowledge_gaps_owner on public.knowledge_gaps for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists knowledge_gap_questions_owner on public.knowledge_gap_questions;
create policy knowledge_gap_questions_owner on public.knowledge_gap_questions for select
  to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));

revoke all on public.message_feedback, public.knowledge_gaps, public.knowledge_gap_questions
  from anon, authenticated;
grant select, insert, update, delete on public.message_feedback to anon, authenticated;
grant select, update (resolved_at) on public.knowledge_gaps to authenticated;
grant select on public.knowledge_gap_questions to authenticated;
grant all on public.message_feedback, public.knowledge_gaps, public.knowledge_gap_questions
  to service_role;

-- Activity per website and hour (UTC), kept by triggers as chats, questions, answers and
-- ratings are written, so that `activity` reads at most 24 rows a day whatever the
-- traffic. It records what happened: deleting a chat later does not rewrite history.
create table if not exists public.activity_hourly (
  website_id    uuid not null references public.websites (id) on delete cascade,
  at            timestamptz not null,         -- the hour, truncated in UTC
  chats         integer not null default 0,
  questions     integer not null default 0,
  answered      integer not null default 0,   -- complete, with sources, not declined
  unanswered    integer not null default 0,   -- any other finished answer
  rated_up      integer not null default 0,
  rated_down    integer not null default 0,
  total_tokens  bigint not null default 0,
  primary key (website_id, at)
);
alter table public.activity_hourly enable row level security;
drop policy if exists activity_hourly_owner on public.activity_hourly;
create policy activity_hourly_owner on public.activity_hourly for select to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
revoke all on public.activity_hourly from anon, authenticated;
grant select on public.activity_hourly to authenticated;
grant all on public.activity_hourly to service_role;

create or replace function public.activity_add(
  p_website uuid, p_at timestamptz, p_chats integer, p_questions integer,
  p_answered integer, p_unanswered integer, p_up integer, p_down integer, p_tokens bigint
) returns void
language sql security definer set search_path = '' as $$
  insert into public.activity_hourly as a
    (website_id, at, chats, questions, answered, unanswered, rated_up, rated_down, total_tokens)
  values (p_website, date_trunc('hour', p_at, 'UTC'), p_chats, p_questions, p_answered,
          p_unanswered, p_up, p_down, p_tokens)
  on conflict (website_id, at) do update set
    chats = a.chats + excluded.chats, questions = a.questions + excluded.questions,
    answered = a.answered + excluded.answered, unanswered = a.unanswered + excluded.unanswered,
    rated_up = a.rated_up + excluded.rated_up, rated_down = a.rated_down + excluded.rated_down,
    total_tokens = a.total_tokens + excluded.total_tokens
$$;
revoke all on function public.activity_add(uuid, timestamptz, integer, integer, integer,
  integer, integer, integer, bigint) from public, anon, authenticated;

create or replace function public.activity_of_chat() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform public.activity_add(new.website_id, new.created_at, 1, 0, 0, 0, 0, 0, 0);
  return null;
end
$$;
drop trigger if exists activity_of_chat on public.chats;
create trigger activity_of_chat after insert on public.chats
  for each row execute function public.activity_of_chat();

-- A question counts when it is stored; an answer when it is finished (written once).
create or replace function public.activity_of_message() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  good boolean;
begin
  if new.role = 'user' and tg_op = 'INSERT' then
    perform public.activity_add(new.website_id, new.created_at, 0, 1, 0, 0, 0, 0, 0);
  elsif new.role = 'assistant' and new.status <> 'streaming'
        and (tg_op = 'INSERT' or old.status = 'streaming') then
    good := new.status = 'complete' and not new.declined and new.sources <> '[]'::jsonb;
    perform public.activity_add(
      new.website_id, new.created_at, 0, 0, good::integer, (not good)::integer, 0, 0,
      coalesce((new.usage ->> 'totalTokens')::bigint, 0));
  end if;
  return null;
end
$$;
drop trigger if exists activity_of_message on public.messages;
create trigger activity_of_message after insert or update of status on public.messages
  for each row execute function public.activity_of_message();

-- A rating counts in the hour it was given; rating again moves it.
create or replace function public.activity_of_feedback() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' then
    perform public.activity_add(old.website_id, old.created_at, 0, 0, 0, 0,
      -(old.rating = 'up')::integer, -(old.rating = 'down')::integer, 0);
  end if;
  perform public.activity_add(new.website_id, new.created_at, 0, 0, 0, 0,
    (new.rating = 'up')::integer, (new.rating = 'down')::integer, 0);
  return null;
end
$$;
drop trigger if exists activity_of_feedback on public.message_feedback;
create trigger activity_of_feedback after insert or update on public.message_feedback
  for each row execute function public.activity_of_feedback();

-- What happened before this migration.
insert into public.activity_hourly
  (website_id, at, chats, questions, answered, unanswered, total_tokens)
select website_id, at, sum(chats), sum(questions), sum(answered), sum(unanswered),
       sum(total_tokens)
from (
  select website_id, date_trunc('hour', created_at, 'UTC') as at, count(*) as chats,
         0 as questions, 0 as answered, 0 as unanswered, 0 as total_tokens
  from public.chats group by 1, 2
  union all
  select website_id, date_trunc('hour', created_at, 'UTC'), 0,
    count(*) filter (where role = 'user'),
    count(*) filter (where role = 'assistant' and status = 'complete' and sources <> '[]'::jsonb),
    count(*) filter (where role = 'assistant' and status not in ('streaming')
                     and not (status = 'complete' and sources <> '[]'::jsonb)),
    coalesce(sum((usage ->> 'totalTokens')::bigint) filter (where role = 'assistant'), 0)
  from public.messages group by 1, 2
) t
group by 1, 2
on conflict (website_id, at) do nothing;
