-- Privacy: a website's chats are deleted once their last activity is older than its
-- retention period (`settings.retentionDays`, by a scheduled job), and an owner deletes
-- one visitor's chats, messages and ratings on request (`deleteVisitorData`).

-- The retention job looks a website's chats up by their last activity.
create index if not exists chats_website_updated_idx on public.chats (website_id, updated_at);

-- Tasks that one instance runs per period, whichever it is: an instance claims a run by
-- moving `last_run_at` forward in one statement, so two instances never both claim one.
-- Row-level security with no policy: only the service connection reads or writes it.
create table if not exists public.scheduled_runs (
  task         text primary key,
  last_run_at  timestamptz not null
);
alter table public.scheduled_runs enable row level security;
revoke all on public.scheduled_runs from anon, authenticated;
grant all on public.scheduled_runs to service_role;

-- deleteVisitorData runs as the owner, under row-level security: a knowledge gap that
-- loses questions takes its wording, size and centroid from the questions left, and goes
-- when none is left. The owner policy (008) keeps this to the owner's own websites.
grant delete, update (question, centroid, size) on public.knowledge_gaps to authenticated;
