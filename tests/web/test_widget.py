"""The widget's script and the demo page as the API serves them (the browser tests are in
test_widget_browser.py)."""

from __future__ import annotations

import gzip

from askbase.app.web.widget import widget_script
from tests.conftest import Api

SCRIPT = "/widget/chat-widget.js"


async def test_the_script_is_served_gzipped_with_an_etag_and_cors(api: Api) -> None:
    source = widget_script(api.state.settings.widget_dir).body
    assert b"__ASKBASE_OPERATIONS__" not in source and b"StartSession" in source
    response = await api.http.get(SCRIPT, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "max-age=300" in response.headers["cache-control"]
    assert response.content == source  # httpx decodes the gzip
    assert len(gzip.compress(source, 9)) <= 15 * 1024, "the widget's budget is 15 KB gzipped"

    plain = await api.http.get(SCRIPT, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == source

    etag = response.headers["etag"]
    again = await api.http.get(SCRIPT, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag


async def test_no_demo_page_without_demo_content(api: Api) -> None:
    response = await api.http.get("/demo")
    assert response.status_code == 404
    assert "DEMO_CONTENT" in response.text
