-- Fair turns between websites in the job queue: when each website last had a job claimed.
-- A claim takes the oldest runnable job of the website served longest ago, so one
-- website's thousand-page crawl or bulk upload cannot starve another website's upload.
create table if not exists public.job_turns (
  website_id  uuid primary key references public.websites (id) on delete cascade,
  served_at   timestamptz not null
);
alter table public.job_turns enable row level security;
-- No policies: only the workers (service_role, which bypasses RLS) read and write it.
revoke all on public.job_turns from anon, authenticated;
grant all on public.job_turns to service_role;
create index if not exists jobs_runnable_by_website_idx
  on public.jobs (website_id, run_after, created_at) where status = 'queued';
