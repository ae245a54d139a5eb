"""The phone-readable 办事指南 page: complete, escaped, well-formed, linked from ItemDetail."""

from __future__ import annotations

from html.parser import HTMLParser
from xml.etree import ElementTree

import httpx
import pytest
from fastapi.testclient import TestClient

from central import guide_page
from central.app import DEFAULT_PUBLIC_BASE_URL, create_app
from central.models import Guide, ItemDetail, Material
from tests.support.central_auth import UNLIMITED
from tests.support.kiosk_keys import TEST_KIOSKS, signed

VOID = {"meta", "input", "br", "img", "link", "hr"}


class Page(HTMLParser):
    """Collects text, tags and attributes, and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.errors == [] and page.stack == []
    return page


@pytest.fixture(scope="module")
def web():
    with signed(
        TestClient(
            create_app("sqlite://", kiosk_registry=TEST_KIOSKS.registry, auth_settings=UNLIMITED),
            base_url="http://hall.test",
        )
    ) as client:
        yield client


def test_page_has_every_section_and_a_viewport(web):
    detail = web.get("/api/v1/items/tax.invoice").json()
    response = web.get("/guides/tax.invoice")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = parse(response.text)
    text = " ".join(page.text)
    for label in (
        "受理条件",
        "申报材料",
        "办理流程",
        "承诺时限",
        "收费标准",
        "法定依据",
        "办理地点",
        "咨询电话",
    ):
        assert label in text
    guide = detail["guide"]
    for entry in guide["conditions"] + guide["steps"] + guide["legal_basis"]:
        assert entry in text
    assert guide["time_limit"] in text and guide["fees"] in text and guide["phone"] in text
    checkboxes = [attrs for tag, attrs in page.tags if tag == "input"]
    assert len(checkboxes) == len(guide["materials"])
    assert all(attrs["type"] == "checkbox" for attrs in checkboxes)
    viewport = [a for t, a in page.tags if t == "meta" and a.get("name") == "viewport"]
    assert viewport and "width=device-width" in (viewport[0]["content"] or "")
    assert not any(tag == "script" for tag, _ in page.tags)


def test_english_switch(web):
    zh = parse(web.get("/guides/tax.invoice").text)
    assert any(t == "a" and a.get("href") == "?lang=en" for t, a in zh.tags)
    en = web.get("/guides/tax.invoice", params={"lang": "en"})
    page = parse(en.text)
    text = " ".join(page.text)
    assert "Documents to bring" in text and "Service guide" in text
    detail = web.get("/api/v1/items/tax.invoice").json()
    assert detail["name_en"] in text
    english = detail.get("guide_en")
    if english:  # a catalogue with English guides shows them
        assert english["steps"][0] in text
    assert ('lang="en"' in en.text) and any(a.get("href") == "?lang=zh" for t, a in page.tags)


def test_unknown_item_is_a_404_page(web):
    response = web.get("/guides/no.such-item")
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    parse(response.text)


def test_item_detail_links_its_guide_page(web):
    # No public URL configured: the fixed default, not the Host the request came in on.
    detail = web.get("/api/v1/items/tax.invoice").json()
    assert detail["guide_url"] == f"{DEFAULT_PUBLIC_BASE_URL}guides/tax.invoice"
    assert web.get("/guides/tax.invoice").status_code == 200


def test_guide_url_comes_from_the_public_base_url_not_the_host_header():
    app = create_app(
        "sqlite://",
        public_base_url="https://zwfw.example.gov.cn/hall/",
        kiosk_registry=TEST_KIOSKS.registry,
        auth_settings=UNLIMITED,
    )
    with signed(TestClient(app, base_url="http://attacker.test")) as client:
        detail = client.get("/api/v1/items/tax.invoice", headers={"Host": "evil.test"}).json()
    assert detail["guide_url"] == "https://zwfw.example.gov.cn/hall/guides/tax.invoice"


_HOSTILE_GUIDE = Guide(
    conditions=["<img src=x onerror=alert(1)>"],
    materials=[Material(name="</li><li>", copies=2, note='"><script>')],
    steps=["a < b"],
    time_limit="即办",
    fees="&amp;",
    legal_basis=["《法》"],
    phone='12345"><script>',
    location="<",
)
_HOSTILE_FIELDS = {
    "code": "x.hostile",
    "name": '<script>alert("名")</script>',
    "name_en": "<b>x</b>",
    "flow": "guide",
    "identity": "none",
    "department": "部门 & <i>",
    "category": "x",
    "guide": _HOSTILE_GUIDE,
    # fields newer catalogues add, filled only when the model has them
    "department_en": "<i>dept</i>",
    "prints": "none",
    "guide_en": _HOSTILE_GUIDE,
}
HOSTILE = ItemDetail.model_validate(
    {k: v for k, v in _HOSTILE_FIELDS.items() if k in ItemDetail.model_fields}
)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_everything_is_escaped(lang):
    html = guide_page.render(HOSTILE, lang)
    page = parse(html)
    assert not any(tag in ("script", "img", "b", "i") for tag, _ in page.tags)
    assert '<script>alert("名")</script>' in "".join(page.text) or lang == "en"
    # The page body is well-formed XML too once the doctype is dropped.
    ElementTree.fromstring(html.split("\n", 1)[1].replace("&nbsp;", " "))


def test_page_is_well_formed_xml(web):
    html = web.get("/guides/huji.id-card-renewal").text
    root = ElementTree.fromstring(html.split("\n", 1)[1])
    assert root.tag == "html"


def test_is_also_served_on_a_real_socket(server):
    response = httpx.get(f"{server.base_url}/guides/huji.id-card-renewal?lang=xx", timeout=5)
    assert response.status_code == 200 and 'lang="zh-Hans"' in response.text
