"""Presentations on the laptop: each chunk on the slides it comes from, a deck's tables,
figures and speaker notes found by search."""

from __future__ import annotations

import json
from pathlib import Path

from docproc.local.runner import ingest
from tests.documents import (
    Slide,
    packaged_object,
    pdf_of_lines,
    powerpoint_97,
    presentation,
    workbook,
)


def test_a_deck_s_chunks_are_on_their_slides_and_its_notes_and_figures_are_found(
    env, tmp_path: Path
):
    # Given a deck of 60 slides: a clause and a note each, a schedule table on slide 20 and
    # a chart of damages on slide 40, saved under a name that does not say what it is
    slides = [Slide(title=f"Clause {n}", notes=f"Witness {n} recalls it.") for n in range(1, 61)]
    schedule = [[str(k), f"2025-{k:02d}-01", "9,500"] for k in range(1, 13)]
    slides[19] = Slide(title="Payment schedule", table=[["Instalment", "Due", "Amount"], *schedule])
    quantum = ("Quantum", ["Lost profit", "Costs"], {"Claimed": [82000, 4100]})
    slides[39] = Slide(title="Damages claimed", chart=quantum)
    path = presentation(tmp_path / "briefing", slides)
    # When it is ingested
    report = ingest(env, path, document_id="briefing")
    # Then it is one segment, its chunks extracted by python-pptx, on the slides they hold
    assert report.status == "complete" and report.segments_total == 1
    keys = [k for k in env.store.list_keys("work/local/briefing/") if k.endswith(".jsonl")]
    chunks = [json.loads(line) for key in keys for line in env.store.get_bytes(key).splitlines()]
    assert {c["extraction"] for c in chunks} == {"python-pptx"}
    for n in (1, 33, 60):
        (chunk,) = [c for c in chunks if f"Clause {n}\n" in c["text"]]
        assert chunk["page_start"] <= n <= chunk["page_end"]
        assert f"Clause {n}\n\nNotes:\nWitness {n} recalls it." in chunk["text"]
    # And the schedule is a table on slide 20 and the chart's figures one on slide 40, each
    # found by a search for what they say
    hit = env.vectors.search(env.embedder.embed(["instalment due amount 9,500"])[0], "local")[0]
    assert hit.payload["page_start"] <= 20 <= hit.payload["page_end"]
    table = "| Instalment | Due | Amount |\n| --- | --- | --- |\n| 1 | 2025-01-01 | 9,500 |"
    assert table in hit.payload["text"]
    hit = env.vectors.search(env.embedder.embed(["damages claimed lost profit"])[0], "local")[0]
    assert hit.payload["page_start"] <= 40 <= hit.payload["page_end"]
    figures = "| Chart: Quantum | Claimed |\n| --- | --- |\n| Lost profit | 82000 |"
    assert figures in hit.payload["text"]


def test_a_powerpoint_97_deck_s_chunks_are_on_their_slides(env, tmp_path: Path):
    # Given a PowerPoint 97-2003 deck of 40 slides, a clause, a text box and a note each
    slides = [
        Slide(title=f"Clause {n}", boxes=[(f"Exhibit {n} is attached.", 3, 1)], notes=f"Ask {n}.")
        for n in range(1, 41)
    ]
    path = tmp_path / "briefing.ppt"
    path.write_bytes(powerpoint_97(slides))
    # When it is ingested
    report = ingest(env, path, document_id="briefing-97")
    # Then its chunks, by "ppt", are on the slides whose text they hold
    assert report.status == "complete" and report.segments_total == 1
    keys = [k for k in env.store.list_keys("work/local/briefing-97/") if k.endswith(".jsonl")]
    chunks = [json.loads(line) for key in keys for line in env.store.get_bytes(key).splitlines()]
    assert {c["extraction"] for c in chunks} == {"ppt"}
    for n in (1, 22, 40):
        (chunk,) = [c for c in chunks if f"Clause {n}\n" in c["text"]]
        assert chunk["page_start"] <= n <= chunk["page_end"]
        assert f"Clause {n}\n\nExhibit {n} is attached.\n\nNotes:\nAsk {n}." in chunk["text"]


def test_a_workbook_a_slide_embeds_is_found_on_that_slide(env, tmp_path: Path):
    # Given a deck of three slides, the second embedding a workbook of costs (an OLE object,
    # shown as its picture)
    import pptx
    from pptx.enum.shapes import PROG_ID
    from pptx.util import Inches

    costs = workbook(tmp_path / "costs.xlsx", {"Costs": [["Item", "Amount"], ["Survey", 1200]]})
    deck = pptx.Presentation()
    for title in ("Opening", "Costs incurred", "Closing"):
        deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = title
    deck.slides[1].shapes.add_ole_object(
        str(costs), PROG_ID.XLSX, Inches(1), Inches(2), Inches(4), Inches(2)
    )
    path = tmp_path / "briefing.pptx"
    deck.save(str(path))
    # When the laptop's runner ingests it, Then the workbook's figures are found on slide 2
    # (red before: the workbook was not read)
    assert ingest(env, path, document_id="briefing").status == "complete"
    hit = env.vectors.search(env.embedder.embed(["survey amount"])[0], "local")[0]
    assert "| Survey | 1200 |" in hit.payload["text"]
    assert hit.payload["page_start"] == hit.payload["page_end"] == 2


def test_an_exhibit_a_powerpoint_97_slide_embeds_is_found_on_that_slide(env, tmp_path: Path):
    # Given a PowerPoint 97-2003 deck of three slides, the second embedding the survey it
    # presents, a PDF packaged as an icon (as PowerPoint embeds one: its storage compressed)
    survey = pdf_of_lines(["Exhibit 5: the survey finds a cracked lintel over the door."])
    deck = powerpoint_97(
        [Slide(title="Opening"), Slide(title="The survey"), Slide(title="Closing")],
        objects=[(2, 2, 1, packaged_object("survey.pdf", survey))],
    )
    path = tmp_path / "briefing.ppt"
    path.write_bytes(deck)
    # When the laptop's runner ingests it, Then the exhibit's text is found after the slide's
    # title, in a chunk whose slides include slide 2 (the chunker packs short slides together;
    # red before: the object was not read)
    assert ingest(env, path, document_id="briefing").status == "complete"
    query = "cracked lintel over the door"
    dense, sparse = env.embedder.embed([query])[0], env.sparse.encode_query(query)
    hit = env.vectors.search(dense, "local", sparse=sparse)[0]
    assert "The survey\n\nExhibit 5: the survey finds a cracked lintel" in hit.payload["text"]
    assert hit.payload["page_start"] <= 2 <= hit.payload["page_end"]
