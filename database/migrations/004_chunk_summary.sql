-- The document's first paragraph, embedded with each of its chunks (see
-- app/ingest/chunk.py embedding_text); kept so that `askbase reindex` embeds the same text.
alter table public.document_chunks add column if not exists summary text not null default '';
