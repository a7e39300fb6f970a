"""A rendered form as headless Chromium sees it: labels tied, errors described, nothing injected."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from satchel.forms import (
    BooleanField,
    ChoiceField,
    Form,
    IntegerField,
    MultipleChoiceField,
    StringField,
    TextField,
    ValidationError,
)
from tests.browser import dump_dom

INJECTION = '"\'><img src=x onerror="window.injected=1"><script>window.injected=1</script>'

# Our own script, after the form: it reports what the browser made of the markup.
PROBE = """
<script>
const controls = [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden")
  .map((el) => ({
    name: el.name,
    labels: [...el.labels].map((label) => label.textContent),
    describedBy: (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? null),
    invalid: el.getAttribute("aria-invalid"),
    value: el.type === "checkbox" ? el.checked : el.value,
    valueMissing: el.validity.valueMissing,
  }));
document.getElementById("result").textContent = JSON.stringify({
  injected: window.injected ?? 0,
  scripts: document.scripts.length,
  images: document.images.length,
  legends: [...document.querySelectorAll("fieldset > legend")].map((l) => l.textContent),
  controls,
});
</script>
"""


class ReviewForm(Form, csrf=False):
    title = StringField(INJECTION, max_length=10, help_text=INJECTION)
    body = TextField(required=False)
    stars = IntegerField(min_value=1, max_value=5)
    colour = ChoiceField(choices=[("red", INJECTION), ("blue", "Blue")])
    sizes = MultipleChoiceField(choices=[("s", "Small"), ("l", "Large")], widget="checkbox")
    agree = BooleanField("I agree", required=True)

    def clean(self, data: dict[str, Any]) -> None:
        raise ValidationError(INJECTION)


def browser_report(tmp_path: Path, form: Form) -> dict[str, Any]:
    page = tmp_path / "form.html"
    page.write_text(
        f'<!doctype html><meta charset="utf-8"><form>{form}</form><pre id="result"></pre>{PROBE}',
        encoding="utf-8",
    )
    dom = dump_dom(page.as_uri())
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
    assert match is not None, dom
    report: dict[str, Any] = json.loads(
        match[1].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    return report


def test_a_rerendered_form_in_chromium(tmp_path: Path) -> None:
    form = ReviewForm(
        {
            "title": INJECTION,
            "body": "</textarea>" + INJECTION,
            "stars": "9",
            "colour": "red",
            "sizes": ["l"],
        }
    )
    assert not form.validate()
    report = browser_report(tmp_path, form)
    assert report["injected"] == 0
    assert (report["scripts"], report["images"]) == (1, 0)  # only the probe
    assert report["legends"] == ["Sizes"]
    controls = {control["name"]: control for control in report["controls"]}
    title = controls["title"]
    assert title["labels"] == [INJECTION]
    assert title["value"] == INJECTION  # the user's input, intact
    assert title["invalid"] == "true"
    assert title["describedBy"] == [
        INJECTION,
        f"Ensure this value has at most 10 characters (it has {len(INJECTION)}).",
    ]
    assert controls["body"]["value"] == "</textarea>" + INJECTION
    assert controls["stars"]["describedBy"] == ["Ensure this value is less than or equal to 5."]
    assert controls["colour"]["value"] == "red"
    assert controls["agree"]["labels"] == ["I agree"]
    assert controls["agree"]["valueMissing"] is True  # the browser's own check agrees
    boxes = [(c["labels"], c["value"]) for c in report["controls"] if c["name"] == "sizes"]
    assert boxes == [(["Small"], False), (["Large"], True)]


def test_an_unbound_form_in_chromium(tmp_path: Path) -> None:
    report = browser_report(tmp_path, ReviewForm())
    controls = {control["name"]: control for control in report["controls"]}
    assert controls["title"]["valueMissing"] is True  # required, empty
    assert controls["body"]["valueMissing"] is False
    assert controls["colour"]["value"] == ""  # the blank choice, so the user picks one
    assert controls["title"]["invalid"] is None
    assert report["injected"] == 0
