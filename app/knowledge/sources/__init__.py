"""Website sources: pages fetched (through one guard), discovered and synced into documents."""
