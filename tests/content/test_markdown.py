"""Lessons' Markdown renders safely: no raw HTML, no script URLs, internal links resolved."""
from academy.content.markdown import render


def test_raw_html_and_script_are_escaped_not_rendered():
    html = render('Hello <script>alert(1)</script> <img src=x onerror="alert(2)"> <b onclick="x">b</b>')
    assert "<script" not in html and "<img" not in html and "<b " not in html  # no tag survives as a tag
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html  # they are shown as text


def test_javascript_links_are_not_made_into_links():
    html = render("[click](javascript:alert(1)) [ok](https://www.dicomstandard.org/)")
    assert 'href="javascript' not in html
    assert 'href="https://www.dicomstandard.org/"' in html and 'rel="noopener noreferrer"' in html


def test_internal_links_go_through_the_resolver_and_unknown_ones_go_nowhere():
    resolve = {("lesson", "m/l"): "/tracks/X/modules/m/lessons/l"}.get
    html = render("[a](lesson:m/l) [b](lesson:gone/away)", lambda kind, target: resolve((kind, target)))
    assert 'href="/tracks/X/modules/m/lessons/l"' in html
    assert 'href="#missing-link"' in html


def test_tables_and_fenced_hl7_render_without_inline_styles():
    html = render("| a | b |\n|:-|-:|\n| 1 | 2 |\n\n```hl7\nMSH|^~\\&|RIS\n```\n")
    assert "<table>" in html and "style=" not in html
    assert '<code class="language-hl7">MSH|^~\\&amp;|RIS' in html
