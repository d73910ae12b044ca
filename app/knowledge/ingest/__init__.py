"""Ingestion: detect a file, parse it in a sandbox, chunk it, embed it, store it."""
