-- One-time sign-in codes for the console without Supabase Auth (`askbase console-link`,
-- and the link `askbase serve` prints): only a SHA-256 of each code is kept, it expires
-- minutes after it is issued, and redeeming it deletes it (redeemConsoleCode), so a code
-- signs in once. Row-level security with no policy: only the service reads or writes it.
create table if not exists public.console_codes (
  code_hash   bytea primary key,
  user_id     uuid not null,
  expires_at  timestamptz not null,
  created_at  timestamptz not null default now()
);
alter table public.console_codes enable row level security;
revoke all on public.console_codes from anon, authenticated;
grant all on public.console_codes to service_role;
create index if not exists console_codes_expires_idx on public.console_codes (expires_at);
