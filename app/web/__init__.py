"""HTTP: the Starlette app with GraphQL, request guards, health and metrics routes,
the widget and demo page, signed downloads, graceful shutdown."""
