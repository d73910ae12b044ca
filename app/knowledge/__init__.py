"""What the assistant knows: documents and their files, ingestion (detect, parse in a
sandbox, chunk, embed), embedders, hybrid retrieval, and document/job events."""
