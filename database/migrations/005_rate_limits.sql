-- Leaky buckets shared by every instance (RATE_LIMIT_BACKEND=postgres). Unlogged: a
-- crash forgets recent hits, which a rate limit can afford, and writes skip the WAL.
-- Row-level security with no policy: only the service connection reads or writes it.
create unlogged table if not exists public.rate_limits (
  key        text primary key,
  level      double precision not null,
  updated_at timestamptz not null
);
alter table public.rate_limits enable row level security;
revoke all on public.rate_limits from anon, authenticated;
