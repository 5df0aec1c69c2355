"""tnef: winmail.dat containers opened with tnefparse."""

from pipeline.mail import tnef
from pipeline.mail.mime import parse
from tests.tnef_builder import build

RTF = rb"{\rtf1\ansi\fromtext \f0 Hello\par}"


def test_files_and_the_rtf_body_come_out_of_the_container():
    content = tnef.extract(build([("a.pdf", b"%PDF a"), ("b.txt", b"bee")], rtf=RTF))
    assert [(f.filename, f.mime_type, f.data) for f in content.files] == [
        ("a.pdf", "application/pdf", b"%PDF a"),
        ("b.txt", "text/plain", b"bee"),
    ]
    assert content.rtf == RTF


def test_an_unreadable_container_is_none():
    assert tnef.extract(b"not tnef at all") is None


def test_winmail_dat_is_recognized_by_type_or_name():
    assert tnef.is_tnef("application/ms-tnef", None)
    assert tnef.is_tnef("application/octet-stream", "WINMAIL.DAT")
    assert not tnef.is_tnef("application/pdf", "winmail.pdf")


def _mail_with(container: bytes, text_part: bool) -> bytes:
    import base64

    text = b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" if text_part else b""
    return (
        b'From: o@x.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + text
        + b"--b\r\nContent-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(container)
        + b"--b--\r\n"
    )


def test_with_no_other_body_the_rtf_body_is_kept_as_an_attachment():
    parsed = parse(_mail_with(build([("a.pdf", b"%PDF a")], rtf=RTF), text_part=False))
    assert [p.filename for p in parsed.parts] == ["a.pdf", "winmail-body.rtf"]


def test_with_no_mime_body_the_containers_own_body_is_the_text():
    parsed = parse(_mail_with(build([], body=b"Body from Outlook"), text_part=False))
    assert (parsed.body_text, parsed.notes["body_source"]) == ("Body from Outlook", "tnef")


def test_a_broken_container_stays_a_winmail_dat_attachment():
    parsed = parse(_mail_with(b"\x78\x9f\x3e\x22broken", text_part=True))
    assert [p.filename for p in parsed.parts] == ["winmail.dat"]
    assert parsed.notes["tnef"] == {"readable": False}
