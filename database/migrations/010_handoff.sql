-- A human when needed: a visitor asks for a person, the website's team takes the chat over
-- and replies in it, and an optional webhook tells the team (app/chat/handoff.py).

-- Messages written by the website's team in a chat.
alter table public.messages drop constraint if exists messages_role_check;
alter table public.messages add constraint messages_role_check
  check (role in ('user', 'assistant', 'system', 'owner'));

-- A chat's hand-off: none; requested (by the visitor or the owner); taken over (the
-- assistant stays silent until the owner releases it).
alter table public.chats
  add column if not exists handoff text not null default 'none'
    check (handoff in ('none', 'requested', 'taken_over')),
  add column if not exists handoff_note text check (char_length(handoff_note) <= 500),
  add column if not exists handoff_requested_at timestamptz,
  add column if not exists taken_over_at timestamptz;
create index if not exists chats_website_handoff_idx
  on public.chats (website_id, handoff_requested_at) where handoff_requested_at is not null;

-- Visitors may change their chats (the title, the time of the last message) but not the
-- hand-off state, which askbase sets for them; nor may they write as the team.
create or replace function public.chats_handoff_guard() returns trigger
language plpgsql as $$
begin
  if current_user = 'anon' and (
    (tg_op = 'INSERT' and (new.handoff <> 'none' or new.handoff_note is not null
                           or new.handoff_requested_at is not null or new.taken_over_at is not null))
    or (tg_op = 'UPDATE'
        and (new.handoff, new.handoff_note, new.handoff_requested_at, new.taken_over_at)
            is distinct from (old.handoff, old.handoff_note, old.handoff_requested_at, old.taken_over_at))
  ) then
    raise exception 'visitors cannot change a chat''s hand-off' using errcode = '42501';
  end if;
  return new;
end
$$;
drop trigger if exists chats_handoff_guard on public.chats;
create trigger chats_handoff_guard before insert or update on public.chats
  for each row execute function public.chats_handoff_guard();

create or replace function public.messages_owner_role_guard() returns trigger
language plpgsql as $$
begin
  if current_user = 'anon' and new.role = 'owner' then
    raise exception 'visitors cannot write as the website''s team' using errcode = '42501';
  end if;
  return new;
end
$$;
drop trigger if exists messages_owner_role_guard on public.messages;
create trigger messages_owner_role_guard before insert or update of role on public.messages
  for each row execute function public.messages_owner_role_guard();

-- Live chat activity, across instances: a finished message, a new chat, a hand-off change.
-- The payload names the chat and its website only; listeners read what changed as their
-- callers, under row-level security.
create or replace function public.notify_chat_activity() returns trigger
language plpgsql as $$
begin
  perform pg_notify('askbase_chats',
    json_build_object('chat', new.id, 'website', new.website_id)::text);
  return null;
end
$$;
create or replace function public.notify_message_activity() returns trigger
language plpgsql as $$
begin
  perform pg_notify('askbase_chats',
    json_build_object('chat', new.chat_id, 'website', new.website_id)::text);
  return null;
end
$$;
drop trigger if exists chats_activity_notify on public.chats;
create trigger chats_activity_notify after insert on public.chats
  for each row execute function public.notify_chat_activity();
drop trigger if exists chats_handoff_notify on public.chats;
create trigger chats_handoff_notify after update of handoff on public.chats
  for each row when (old.handoff is distinct from new.handoff)
  execute function public.notify_chat_activity();
drop trigger if exists messages_activity_notify on public.messages;
create trigger messages_activity_notify after insert on public.messages
  for each row when (new.status <> 'streaming')
  execute function public.notify_message_activity();
drop trigger if exists messages_finished_notify on public.messages;
create trigger messages_finished_notify after update of status on public.messages
  for each row when (old.status = 'streaming' and new.status <> 'streaming')
  execute function public.notify_message_activity();

-- The owner's webhook for hand-off requests, and the secret its deliveries are signed
-- with. Owner-only: visitors have no grant on it.
create table if not exists public.handoff_webhooks (
  website_id  uuid primary key references public.websites (id) on delete cascade,
  url         text not null check (char_length(url) between 1 and 2048),
  secret      text not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- Every delivery attempt, for the owner to read (written by the service).
create table if not exists public.handoff_deliveries (
  id           uuid primary key default gen_random_uuid(),
  website_id   uuid not null references public.websites (id) on delete cascade,
  chat_id      uuid references public.chats (id) on delete set null,
  event_id     uuid not null,              -- one hand-off request: its attempts share it
  attempt      integer not null check (attempt >= 1),
  url          text not null,
  status_code  integer,                    -- null: no HTTP answer
  ok           boolean not null,
  error        text,
  created_at   timestamptz not null default clock_timestamp()
);
create index if not exists handoff_deliveries_website_created_idx
  on public.handoff_deliveries (website_id, created_at desc, id desc);

alter table public.handoff_webhooks   enable row level security;
alter table public.handoff_deliveries enable row level security;

drop policy if exists handoff_webhooks_owner on public.handoff_webhooks;
create policy handoff_webhooks_owner on public.handoff_webhooks for all to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())))
  with check (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));
drop policy if exists handoff_deliveries_owner on public.handoff_deliveries;
create policy handoff_deliveries_owner on public.handoff_deliveries for select to authenticated
  using (website_id in (select w.id from public.websites w where w.owner_id = (select auth.uid())));

revoke all on public.handoff_webhooks, public.handoff_deliveries from anon, authenticated;
grant select, insert, update, delete on public.handoff_webhooks to authenticated;
grant select on public.handoff_deliveries to authenticated;
grant all on public.handoff_webhooks, public.handoff_deliveries to service_role;
