"""html_text: readable text, never scripts or styles."""

from pipeline.mail.html_text import html_to_text


def test_tables_and_lists_keep_their_layout():
    text = html_to_text("<table><tr><td>a</td><td>b</td></tr></table><ul><li>one</li></ul>")
    assert text == "a  b\n\n  * one"


def test_scripts_and_styles_are_dropped():
    html = "<style>p{color:red}</style><script>alert(1)</script><p>Hi</p>"
    assert html_to_text(html) == "Hi"


def test_an_xml_declaration_does_not_break_conversion():
    assert html_to_text('<?xml version="1.0" encoding="utf-8"?><p>x</p>') == "x"


def test_empty_html_gives_empty_text():
    assert html_to_text("  ") == ""


def test_megabytes_of_html_are_converted_only_up_to_a_limit():
    from pipeline.mail.bodies import HTML_TEXT_LIMIT
    from pipeline.mail.mime import parse

    html = "<p>word</p>" * (HTML_TEXT_LIMIT // 10)
    parsed = parse(b"From: a@x\r\nContent-Type: text/html\r\n\r\n" + html.encode())
    assert parsed.notes["html_text_truncated"] is True
    assert len(parsed.body_html) > HTML_TEXT_LIMIT  # the HTML body itself is kept whole
