"""The GraphQL layer's resolvers: argument parsing (IDs), the calls into app/, and the
per-operation dataloaders; the schema's types map their results."""
