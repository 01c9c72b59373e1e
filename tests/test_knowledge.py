"""Local knowledge (issue 25, item 6): the owner's notes in text, Markdown and PDF, indexed in SQLite's FTS5,
the matching passages given to the model with the question and nothing for a question they do not answer;
through a whole Billy, asked aloud."""

from __future__ import annotations

import pytest

from billy.knowledge import MAX_FILE_BYTES, Knowledge, KnowledgeError, content_words

HOUSE_NOTES = b"""# Our house

## Bins
The green bin goes out on Tuesday evening at seven. The grey one goes out every other Friday.

## Pets
The cat is called Tuna. She eats at six and is not allowed on the kitchen table.
"""
GARDEN = b"The tomatoes in the garden want water every morning in summer, never in the evening."


def pdf_with_text(*lines: str) -> bytes:
    """A one-page PDF with these lines in its text layer, written out as the format describes it (the object
    offsets in the cross-reference table counted), as a word processor's export would carry them."""
    text = " ".join(f"({line}) Tj 0 -16 Td" for line in lines)
    stream = f"BT /F1 12 Tf 72 720 Td {text} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def notes(tmp_path) -> Knowledge:
    knowledge = Knowledge(tmp_path)
    knowledge.add("house.md", HOUSE_NOTES)
    knowledge.add("garden.txt", GARDEN)
    knowledge.add("car.pdf", pdf_with_text("The car is serviced at Garage Smit in March.", "Tyres: 2.2 bar."))
    return knowledge


def test_a_question_brings_the_passage_that_answers_it(notes):
    assert "bin goes out on Tuesday" in notes.notes_for("What time does the bin go out?")
    assert "Tuna" in notes.notes_for("What's the cat called?")
    assert "Garage Smit" in notes.notes_for("When is the car serviced?")  # from the PDF's text layer
    assert "tomatoes" in notes.notes_for("When should I water the tomatoes?")
    assert "(garden.txt)" in notes.notes_for("When should I water the tomatoes?")  # where it comes from
    for unrelated in ("Tell me a joke.", "What is the capital of France?", "How are you today?", ""):
        assert notes.notes_for(unrelated) == "", unrelated


def test_only_words_that_say_what_a_question_is_about_count():
    assert content_words("What time does the bin go out?") == ["time", "bin"]
    assert content_words("Wann kommt die Tonne raus?") == ["kommt", "tonne", "raus"]


def test_notes_are_listed_replaced_and_removed(notes, tmp_path):
    assert [name for name, _ in notes.documents()] == ["car.pdf", "garden.txt", "house.md"]
    notes.add("garden.txt", b"The roses want cutting in February.")
    assert notes.notes_for("When should I water the tomatoes?") == ""
    assert "roses" in notes.notes_for("When do the roses want cutting?")
    notes.remove("house.md")
    assert notes.notes_for("What time does the bin go out?") == ""
    assert not (tmp_path / "knowledge" / "house.md").exists()
    with pytest.raises(KnowledgeError, match=r"no file called 'house\.md'"):
        notes.remove("house.md")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("notes.exe", b"text", "a .txt, .md or .pdf file"),
        ("../../etc/cron.d/evil.sh", b"x", "a .txt, .md or .pdf file"),
        ("latin1.txt", "caf\u00e9".encode("latin-1"), "not UTF-8 text"),
        ("broken.pdf", b"%PDF-1.4 nothing more", "not a PDF that can be read"),
        ("scan.pdf", pdf_with_text(), "no text in it"),
        ("empty.md", b"  \n\n ", "no text in it"),
        ("huge.txt", b"a" * (MAX_FILE_BYTES + 1), "bigger than 5 MB"),
    ],
)
def test_a_file_that_cannot_be_notes_is_refused_with_why(tmp_path, name, data, reason):
    knowledge = Knowledge(tmp_path)
    with pytest.raises(KnowledgeError, match=reason):
        knowledge.add(name, data)
    assert knowledge.documents() == []


def test_a_whole_billy_gives_his_model_the_notes_that_answer_the_question(tank_factory, llm, speak):
    tank = tank_factory()
    Knowledge(tank.state_dir).add("house.md", HOUSE_NOTES)
    tank.ask(speak("What time does the green bin go out?"))
    system = llm.requests[-1]["body"]["messages"][0]["content"]
    assert "The green bin goes out on Tuesday evening at seven." in system and "(house.md)" in system
    tank.ask(speak("Tell me something about the sea."))
    assert "house.md" not in llm.requests[-1]["body"]["messages"][0]["content"]
