"""Demo content: a fresh install answers from askbase's own README, once, across restarts."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from askbase.app.tenancy.demo import DEMO_DOMAIN, DEMO_OWNER
from tests.chat.test_chat_stream import connected, events, new_chat, start
from tests.conftest import owner_token, running_api
from tests.knowledge.test_documents import wait_until_done


async def test_the_demo_website_answers_from_the_readme(fresh_dsn: str, tmp_path: Path) -> None:
    token = owner_token(DEMO_OWNER)
    async with running_api(fresh_dsn, tmp_path, DEMO_CONTENT=True, PORT=8123) as api:
        sites = (
            await api.data("{ websites { id domain settings { allowedOrigins } } }", token=token)
        )["websites"]
        assert [s["domain"] for s in sites] == [DEMO_DOMAIN]
        assert "http://127.0.0.1:8123" in sites[0]["settings"]["allowedOrigins"]
        docs = (
            await api.data(
                "query($w: ID!) { documents(websiteId: $w) { nodes { id filename } } }",
                {"w": sites[0]["id"]},
                token=token,
            )
        )["documents"]["nodes"]
        assert "README.md" in [d["filename"] for d in docs]
        for doc in docs:
            assert (await wait_until_done(api, token, doc["id"], within=120))["status"] == "READY"
        chat_id = await new_chat(api, token, sites[0]["id"])
        async with connected(api, "graphql-transport-ws", token) as ws:
            await start(ws, "graphql-transport-ws", chat_id, "How do I run the tests?")
            got = await events(ws)
        answer = got[-1]["message"]["content"]
        assert "make test" in answer and got[0]["sources"], answer
    async with running_api(fresh_dsn, tmp_path, DEMO_CONTENT=True):
        pass
    conn = await asyncpg.connect(fresh_dsn)
    try:
        assert await conn.fetchval("select count(*) from websites") == 1
        assert (
            await conn.fetchval("select count(*) from documents where filename = 'README.md'") == 1
        )
    finally:
        await conn.close()


async def test_the_demo_page_is_configured_for_the_demo_website(
    fresh_dsn: str, tmp_path: Path
) -> None:
    async with running_api(fresh_dsn, tmp_path, DEMO_CONTENT=True, INGEST_WORKERS=0) as api:
        sites = (await api.data("{ websites { id } }", token=owner_token(DEMO_OWNER)))["websites"]
        page = await api.http.get("/demo")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'websiteId: "{sites[0]["id"]}"' in page.text
    assert '<script src="/widget/chat-widget.js"></script>' in page.text
