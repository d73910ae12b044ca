"""Foundations every room uses: settings, client-safe errors with codes, input
validation, keyset pagination."""
