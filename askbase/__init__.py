"""askbase: a self-hostable AI assistant for websites.

One import namespace for the project's folders, which live at the top of the repository
under the names the product is known by: `askbase.app` (the service, one subpackage per
domain), `askbase.schema` (GraphQL types), `askbase.resolvers`, `askbase.database` (all
SQL and migrations) and `askbase.widget` (the embeddable script, served as files). The
entries here are links to those folders, so every tool sees one package.
"""
