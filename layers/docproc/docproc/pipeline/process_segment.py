"""ProcessSegment: extract one segment, chunk, write the chunk file, embed, upsert, record.

Idempotent by construction: point ids are deterministic (a retry overwrites), the chunk
file is rewritten whole, and the ledger row is written last and conditionally. A segment
the ledger knows as done is returned at once without touching anything else.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn

from docproc.embedding.port import Embedder, SparseEncoder
from docproc.errors import (
    ConfigurationError,
    DocprocError,
    ObjectNotFound,
    SegmentBudgetExceeded,
)
from docproc.extract import html, text
from docproc.extract.ocr import OCR_AUTO, OcrOptions
from docproc.extract.open_documents import OpenDocuments
from docproc.extract.pages import PageText, TablesMode
from docproc.extract.sniff import (
    CSV,
    DOC,
    EML,
    EMLX,
    HTML,
    JSONL,
    MARKDOWN,
    MBOX,
    MSG,
    ODP,
    ODS,
    ODT,
    P7M,
    PDF,
    PICTURE_TYPES,
    PPT,
    PPTX,
    REPACKED,
    RTF,
    SPREADSHEETML,
    TNEF,
    WORDML,
    XLS,
    XLSX,
    ZIP,
)
from docproc.ledger.port import Ledger
from docproc.ledger.records import utc_now
from docproc.models import (
    DOCUMENT_INGESTION_PROGRESS,
    BytesSegment,
    Chunk,
    DocumentRef,
    PagesSegment,
    SegmentRecord,
    SegmentResult,
    SegmentTask,
    TimeSegment,
    WholeSegment,
    point_id,
)
from docproc.notify.port import Notifier
from docproc.observability import current_rss_mb, logger, metrics, peak_rss_mb, reset_peak_rss
from docproc.pipeline.in_flight import BatchesInFlight
from docproc.pipeline.status import document_progress
from docproc.storage.port import ObjectStore
from docproc.storage.ranged import open_ranged
from docproc.transcribe.port import Transcriber, Utterance
from docproc.vectors.port import VISIBLE, VectorPoint, VectorSink

if TYPE_CHECKING:
    # The chunker (tokenizer, numpy) is built on first use, not at a cold start's import.
    from docproc.chunking.chunker import Chunker, ChunkPiece

# An Office file (DOCX, XLSX, PPTX, DOC, PPT) is read a MiB at a time: one of up to 1 MiB in one
# read, a large one's XML (or text's streams) in few.
_PACKAGE_READ_AHEAD = 1 << 20
# An e-mail is read from start to end: in few requests.
_MESSAGE_READ_AHEAD = 8 << 20
# So is an Office document that is one XML file (Word 2003 XML, Excel 2003 XML).
_XML_READ_AHEAD = 8 << 20
# An archive's files are read in the order they lie: in few requests.
_ARCHIVE_READ_AHEAD = 8 << 20


@dataclass(frozen=True)
class SegmentBudget:
    """Time and memory a segment may use, checked between pages and between batches."""

    deadline: float | None = None  # time.monotonic() by which the segment must be done
    max_rss_mb: float | None = None

    def check(self, stage: str) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SegmentBudgetExceeded(f"out of time while {stage}")
        if self.max_rss_mb is not None and current_rss_mb() > self.max_rss_mb:
            raise SegmentBudgetExceeded(f"memory above {self.max_rss_mb:.0f} MB while {stage}")

    def memory_left_mb(self) -> float | None:
        """What the segment may still use (None: no bound), for a step that cannot check as
        it goes."""
        return None if self.max_rss_mb is None else self.max_rss_mb - current_rss_mb()

    def reserve(self, needed_mb: float, reading: str) -> None:
        """SegmentBudgetExceeded, before anything is read, unless a step that holds its input
        whole (``reading``: "an e-mail of 9 MB", "a DOCX of 30 MB of XML") fits what the
        segment has left."""
        left = self.memory_left_mb()
        if left is not None and needed_mb > left:
            self.refuse(needed_mb, reading)

    def refuse(self, needed_mb: float, reading: str) -> NoReturn:
        """SegmentBudgetExceeded for a step found too large to hold before it was held."""
        left = self.memory_left_mb()
        remains = "no limit" if left is None else f"{left:.0f} MB are left"
        raise SegmentBudgetExceeded(f"{reading} needs about {needed_mb:.0f} MB to read; {remains}")


@dataclass(frozen=True)
class SegmentDeps:
    store: ObjectStore
    ledger: Ledger
    chunker: Chunker
    embedder: Embedder
    vectors: VectorSink
    # Recordings only; None where no recording is expected.
    transcriber: Transcriber | None = None
    embed_batch_size: int = 256
    # Batches being embedded and stored at once while the next are read (see
    # pipeline.in_flight): more than 1 only where the waits are a network's (an embeddings
    # API, a store in another process). ``vectors`` is then called from that many threads at
    # once.
    batches_in_flight: int = 1
    # The embedder computes in this process (the offline hashing embedders): each batch is
    # embedded in the segment's own thread, and without first asking the store which of its
    # points an earlier attempt stored. Embedding them again takes less than asking; their ids
    # are deterministic, so they replace themselves. An API's embeddings cost money and rate
    # limit: those the store holds are not asked for again.
    embeds_offline: bool = False
    # The BM25 side of hybrid search; None writes dense vectors only.
    sparse: SparseEncoder | None = None
    # Throttled "Document Ingestion Progress" events; None: off.
    progress: ProgressEvents | None = None
    budget: SegmentBudget = SegmentBudget()
    # Scanned pages, and tables on pages.
    ocr: OcrOptions = OCR_AUTO
    tables: TablesMode = "auto"
    # A worker's last paged document, kept open for its next segment; None opens each
    # segment's file anew (a downloaded copy, removed after its segment).
    documents: OpenDocuments | None = None


@dataclass(frozen=True)
class ProgressEvents:
    """At most one progress event per document per ``interval_seconds``, across workers."""

    notifier: Notifier
    interval_seconds: float

    def segment_done(self, ledger: Ledger, ref: DocumentRef) -> None:
        if not ledger.claim_progress_slot(
            ref.tenant_id, ref.document_id, utc_now(), self.interval_seconds
        ):
            return
        report = document_progress(ledger, ref.tenant_id, ref.document_id)
        if report is None or report.version != ref.version:
            return  # a newer upload holds the document: this version's progress is moot
        self.notifier.publish(
            DOCUMENT_INGESTION_PROGRESS,
            {
                "tenant_id": ref.tenant_id,
                "case_id": ref.case_id,
                "document_id": ref.document_id,
                "version": ref.version,
                "segments_done": report.segments_done,
                "segments_total": report.segments_total,
                "percent": report.percent,
            },
        )


def process_segment(task: SegmentTask, deps: SegmentDeps) -> SegmentResult:
    ref, segment = task.document, task.segment
    done = deps.ledger.get_segment(ref.tenant_id, ref.document_id, ref.version, segment.index)
    if done is not None and done.status == "done":
        logger.info("segment already done; returning the recorded result")
        metrics.add_metric(name="SegmentsSkipped", unit="Count", value=1)
        return _result(task, done, skipped=True)

    # A process serves many segments (a warm Lambda, a laptop worker): the segment's PeakRss
    # is its own peak, not the process's since it started.
    reset_peak_rss()
    started = time.monotonic()
    try:
        record = _run(task, deps, attempts=(done.attempts + 1) if done else 1, started=started)
    except Exception as exc:
        if (
            isinstance(exc, ObjectNotFound)
            and deps.ledger.get_document(ref.tenant_id, ref.document_id) is None
        ):
            # Delete removed the document (its sub-PDFs, or the upload's version) while this
            # version ran: nothing to do, and nothing recorded; Finalize removes what it wrote.
            logger.info("the document was deleted while this version ran")
            return _gone(task)
        _record_failure(task, deps.ledger, exc)
        raise
    if not deps.ledger.mark_segment_done(ref.tenant_id, ref.document_id, ref.version, record):
        logger.info("segment was completed concurrently by another invocation")
    elif deps.progress is not None:
        deps.progress.segment_done(deps.ledger, ref)
    metrics.add_metric(name="SegmentsProcessed", unit="Count", value=1)
    metrics.add_metric(name="Chunks", unit="Count", value=record.chunks)
    metrics.add_metric(name="EmbeddingTokens", unit="Count", value=record.tokens)
    metrics.add_metric(name="SegmentDuration", unit="Milliseconds", value=record.duration_ms)
    metrics.add_metric(name="PeakRss", unit="Megabytes", value=record.peak_rss_mb)
    metrics.add_metric(name="Pages", unit="Count", value=record.pages)
    if record.pages_ocr:
        metrics.add_metric(name="PagesOcr", unit="Count", value=record.pages_ocr)
    metrics.add_metric(name="Bytes", unit="Bytes", value=record.bytes)
    if record.attempts > 1:
        metrics.add_metric(name="SegmentsRetried", unit="Count", value=1)
    return _result(task, record, skipped=False)


def _run(task: SegmentTask, deps: SegmentDeps, attempts: int, started: float) -> SegmentRecord:
    """Chunks stream through: each batch is written to the chunk file, then stored (embedded
    and upserted) while the next are extracted, so memory holds a few batches
    (``batches_in_flight``), not the segment's chunks."""
    ref, segment = task.document, task.segment
    output_key = ref.chunks_key(segment.index)
    deps.vectors.ensure_collection()
    chunks = tokens = 0
    heard = _Heard()
    with (
        deps.store.writer(output_key, "application/x-ndjson") as jsonl,
        BatchesInFlight(
            deps.batches_in_flight,
            partial(_staged_points, deps=deps),
            deps.vectors.upsert,
            compute_in_caller=deps.embeds_offline,
        ) as storing,
    ):
        for batch in batched(_chunks(task, _pieces(task, deps, heard)), deps.embed_batch_size):
            jsonl.write("".join(chunk.model_dump_json() + "\n" for chunk in batch).encode())
            deps.budget.check("embedding")
            storing.submit(batch)
            chunks += len(batch)
            tokens += sum(chunk.token_count for chunk in batch)
    return SegmentRecord(
        index=segment.index,
        status="done",
        output_key=output_key,
        chunks=chunks,
        tokens=tokens,
        pages=segment.size_hint if isinstance(segment, PagesSegment) else 0,
        pages_ocr=heard.pages_ocr,
        bytes=segment.size_hint if isinstance(segment, BytesSegment) else 0,
        seconds=round(heard.seconds, 3),
        duration_ms=int((time.monotonic() - started) * 1000),
        peak_rss_mb=peak_rss_mb(),
        attempts=attempts,
        updated_at=utc_now(),
    )


def _staged_points(batch: list[Chunk], deps: SegmentDeps) -> list[VectorPoint]:
    """The batch's points to store, staged (searchable only once Finalize publishes the
    version). After a failure or a kill part-way, what an earlier attempt stored is not
    embedded again by an API (a kill leaves no failure record, so the check cannot depend on
    the attempt); the offline embedder embeds it again (SegmentDeps.embeds_offline)."""
    todo = batch
    if not deps.embeds_offline:
        stored = deps.vectors.existing([chunk.point_id for chunk in batch])
        todo = [chunk for chunk in batch if stored.get(chunk.point_id) != chunk.chunk_hash]
    return embedded_points(todo, deps.embedder, deps.sparse, visible=False) if todo else []


def embedded_points(
    chunks: list[Chunk], embedder: Embedder, sparse: SparseEncoder | None, visible: bool
) -> list[VectorPoint]:
    """The chunks' points: the embedder's vector, BM25 weights when ``sparse`` is given, and
    the chunk as payload, searchable (``visible``) or staged."""
    texts = [chunk.text for chunk in chunks]
    vectors = embedder.embed(texts)
    keywords = sparse.encode_documents(texts) if sparse else [None] * len(chunks)
    return [
        VectorPoint(
            id=chunk.point_id,
            vector=vector,
            payload={**chunk.payload(), VISIBLE: visible},
            sparse=weights,
        )
        for chunk, vector, weights in zip(chunks, vectors, keywords, strict=True)
    ]


def batched(items: Iterator[Chunk], size: int) -> Iterator[list[Chunk]]:
    # itertools.batched arrives in Python 3.12; the laptop runner supports 3.11.
    while batch := list(itertools.islice(items, size)):
        yield batch


@dataclass
class _Heard:
    """What extraction met on the way: seconds of audio a time segment owns (counted as it
    decodes), pages read by OCR."""

    seconds: float = 0.0
    pages_ocr: int = 0


def _pieces(
    task: SegmentTask, deps: SegmentDeps, heard: _Heard
) -> Iterator[tuple[ChunkPiece, str]]:
    ref, segment = task.document, task.segment
    if isinstance(segment, PagesSegment):
        yield from _paged_pieces(ref, segment, deps, heard)
        return
    if isinstance(segment, WholeSegment) and ref.media_type in (XLSX, XLS, ODS, SPREADSHEETML):
        yield from _sheet_pieces(ref, segment, deps)
        return
    if isinstance(segment, WholeSegment) and ref.media_type in (PPTX, PPT, ODP):
        yield from _slide_pieces(ref, segment, deps)
        return
    if isinstance(segment, WholeSegment):
        content, method = _whole_text(ref, segment, deps)
        # Read as one page, so its Markdown tables (a DOCX's, an attachment's) are cut
        # between rows with their header on every chunk; prose is cut as any text is.
        for piece in deps.chunker.chunk_pages([PageText(number=1, text=content)]):
            # Page numbers and offsets into extracted text say nothing about the file.
            yield replace(piece, page_start=None, page_end=None), method
        return
    if isinstance(segment, TimeSegment):
        yield from _speech_pieces(segment, deps, heard)
        return
    if ref.media_type == MBOX:
        yield from _mailbox_pieces(segment, deps)
        return
    if ref.media_type == ZIP or ref.media_type in REPACKED or ref.media_type == PDF:
        # (the ZIP Plan repacked an archive into, or a PDF's attached files)
        yield from _archive_pieces(segment, deps)
        return
    where = (
        deps.store,
        segment.input_key,
        segment.input_version_id,
        segment.byte_start,
        segment.byte_end,
        segment.input_size,
    )
    if ref.media_type == HTML:
        # Markup is stripped with the segment's whole range in view (its offsets do not
        # survive stripping anyway)
        yield from _html_pieces(segment, text.read_slice(*where), deps)
        return
    for block in text.read_blocks(*where):
        yield from _text_pieces(ref.media_type, segment, block, deps.chunker)


def _page_texts(
    ref: DocumentRef, segment: PagesSegment, path: Path, deps: SegmentDeps
) -> Iterator[PageText]:
    if ref.media_type in PICTURE_TYPES:
        # Pillow (and libtiff) load only in workers that read pictures.
        from docproc.extract import pictures

        return pictures.pages_text(
            path,
            segment.page_start,
            segment.page_end,
            deps.ocr,
            deps.budget.reserve,
            # the upload itself, or the segment's own TIFF (Plan's pictures.split)
            first_frame=None if segment.input_key == ref.source_key else 0,
        )
    # MuPDF (~30 MB) loads only in workers that handle pages.
    from docproc.extract import pdf

    return pdf.extract_pages(
        path,
        segment.page_start,
        segment.page_end,
        segment.input_filetype,
        deps.ocr,
        deps.tables,
        deps.documents,
    )


def _sheet_pieces(
    ref: DocumentRef, segment: WholeSegment, deps: SegmentDeps
) -> Iterator[tuple[ChunkPiece, str]]:
    """A workbook's sheets, rows grouped into chunks headed by the sheet's name and header
    row (as a CSV's are), each chunk on its sheet's number."""
    with ExitStack() as stack:
        # openpyxl and xlrd load only for workbooks.
        if ref.media_type in (XLSX, ODS, SPREADSHEETML):
            if ref.media_type == XLSX:
                from docproc.extract import xlsx as reader
            elif ref.media_type == ODS:
                from docproc.extract import opendocument as reader  # type: ignore[no-redef]
            else:
                from docproc.extract import spreadsheetml as reader  # type: ignore[no-redef]

            # Read in place, like a DOCX: its directory, then each sheet's XML, streamed (an
            # Excel 2003 XML workbook from its start to its end).
            key, version = segment.input_key, segment.input_version_id
            ahead = _XML_READ_AHEAD if ref.media_type == SPREADSHEETML else _PACKAGE_READ_AHEAD
            workbook = open_ranged(deps.store, key, ref.size, version, ahead)
            sheets = reader.sheet_tables(stack.enter_context(workbook), deps.budget.reserve)
            method = reader.EXTRACTION_METHOD
        else:
            from docproc.extract import xls

            # xlrd maps a file: the upload itself on a laptop, a download from S3.
            copy = deps.store.local_copy(segment.input_key, segment.input_version_id)
            sheets = xls.sheet_tables(stack.enter_context(copy), deps.budget.reserve)
            method = xls.EXTRACTION_METHOD
        for sheet in sheets:
            deps.budget.check(f"reading sheet {sheet.number}")
            for piece in deps.chunker.chunk_records(sheet.rows, 0, sheet.header):
                # Offsets into the sheet's text say nothing about the file's bytes.
                on_sheet = replace(piece, page_start=sheet.number, page_end=sheet.number)
                yield replace(on_sheet, byte_start=None, byte_end=None), method


def _paged_pieces(
    ref: DocumentRef, segment: PagesSegment, deps: SegmentDeps, heard: _Heard
) -> Iterator[tuple[ChunkPiece, str]]:
    """A page range's pages, chunked across them; a file from an archive (``segment.path``)
    named on its first page and in every chunk."""
    with deps.store.local_copy(segment.input_key, segment.input_version_id) as path:
        pages = []
        for page in _page_texts(ref, segment, path, deps):
            deps.budget.check(f"extracting page {page.number}")
            if segment.path and page.number == 1:
                from docproc.extract.archive import headed

                pages.append(headed(page, segment.path))
            else:
                pages.append(page)
    methods = {page.number: page.method for page in pages}
    heard.pages_ocr = sum(1 for method in methods.values() if method == "ocr")
    for piece in deps.chunker.chunk_pages(pages):
        yield replace(piece, path=segment.path), _page_extraction(methods, piece)


def _slide_pieces(
    ref: DocumentRef, segment: WholeSegment, deps: SegmentDeps
) -> Iterator[tuple[ChunkPiece, str]]:
    """A presentation's slides as pages: each chunk on the slides it comes from."""
    slide_texts: Callable[[IO[bytes], Callable[[float, str], None]], Iterator[PageText]]
    # python-pptx loads only for a PPTX.
    if ref.media_type == PPTX:
        from docproc.extract import pptx

        slide_texts, method = pptx.slide_texts, pptx.EXTRACTION_METHOD
    elif ref.media_type == ODP:
        from docproc.extract import opendocument

        slide_texts, method = opendocument.slide_texts, opendocument.EXTRACTION_METHOD
    else:
        from docproc.extract import ppt

        slide_texts, method = ppt.slide_texts, ppt.EXTRACTION_METHOD
    # Read in place: a PPTX's directory and XML only, like a DOCX; a PPT's directory and its
    # records (not its pictures' stream).
    key, version = segment.input_key, segment.input_version_id
    with open_ranged(deps.store, key, ref.size, version, _PACKAGE_READ_AHEAD) as package:
        slides = list(slide_texts(package, deps.budget.reserve))
    for piece in deps.chunker.chunk_pages(slides):
        yield piece, method


def _whole_text(ref: DocumentRef, segment: WholeSegment, deps: SegmentDeps) -> tuple[str, str]:
    """The text of a document read whole (DOCX, DOC, ODT, e-mail, Outlook message or its TNEF,
    a signed file, RTF), and how it was extracted."""
    if ref.media_type == RTF:
        from docproc.extract import rtf

        data = _held_whole(ref, segment, deps, rtf.RTF_MEMORY_FACTOR, "an RTF")
        return rtf.rtf_text(data, deps.budget.reserve), rtf.EXTRACTION_METHOD
    if ref.media_type == ODT:
        from docproc.extract import opendocument

        # Read in place, like a DOCX: its directory and its XML.
        with open_ranged(
            deps.store, segment.input_key, ref.size, segment.input_version_id, _PACKAGE_READ_AHEAD
        ) as document:
            text = opendocument.text_document_text(document, deps.budget.reserve)
            return text, opendocument.EXTRACTION_METHOD
    if ref.media_type == WORDML:
        from docproc.extract import wordml

        # Read in place, from its start to its end, a block at a time.
        with open_ranged(
            deps.store, segment.input_key, ref.size, segment.input_version_id, _XML_READ_AHEAD
        ) as document:
            return wordml.wordml_text(document, deps.budget.reserve), wordml.EXTRACTION_METHOD
    if ref.media_type == DOC:
        from docproc.extract import doc

        # Read in place: its directory, then its text's streams (not its pictures').
        with open_ranged(
            deps.store, segment.input_key, ref.size, segment.input_version_id, _PACKAGE_READ_AHEAD
        ) as document:
            return doc.doc_text(document, deps.budget.reserve), doc.EXTRACTION_METHOD
    if ref.media_type == MSG:
        from docproc.extract import outlook

        size_mb = ref.size / 2**20
        needed = size_mb * outlook.MEMORY_FACTOR
        deps.budget.reserve(needed, f"an Outlook message of {size_mb:.0f} MB")
        # Read in place: its directory, then each property's stream (an attachment's whole).
        with open_ranged(
            deps.store, segment.input_key, ref.size, segment.input_version_id, _MESSAGE_READ_AHEAD
        ) as message:
            return outlook.msg_text(message, deps.ocr, deps.tables), outlook.EXTRACTION_METHOD
    if ref.media_type == P7M:
        from docproc.extract import mail, smime

        # Held whole, as an attachment is: what was signed lies inside its signature's
        # structure, then read as its kind (a PDF from disk, its pages' text joined).
        data = _held_whole(ref, segment, deps, mail.MESSAGE_MEMORY_FACTOR, "a signed file")
        return mail.file_text(data, ref.filename, deps.ocr, deps.tables, 0), smime.EXTRACTION_METHOD
    if ref.media_type == TNEF:
        from docproc.extract import tnef

        # Held whole: its attributes run from start to end, an attachment's bytes among them.
        data = _held_whole(ref, segment, deps, tnef.MEMORY_FACTOR, "a TNEF stream")
        return tnef.tnef_text(data, deps.ocr, deps.tables), tnef.EXTRACTION_METHOD
    if ref.media_type == EMLX:
        from docproc.extract import mail

        # Held whole: the message is the bytes its first line counts (Mail's flags follow).
        data = _held_whole(ref, segment, deps, mail.MESSAGE_MEMORY_FACTOR, "an e-mail")
        message = io.BytesIO(mail.emlx_message(data))
        del data
        return mail.message_text(message, deps.ocr, deps.tables), mail.EXTRACTION_METHOD
    if ref.media_type == EML:
        from docproc.extract import mail

        size_mb = ref.size / 2**20
        deps.budget.reserve(size_mb * mail.MESSAGE_MEMORY_FACTOR, f"an e-mail of {size_mb:.0f} MB")
        with open_ranged(
            deps.store, segment.input_key, ref.size, segment.input_version_id, _MESSAGE_READ_AHEAD
        ) as message:
            return mail.message_text(message, deps.ocr, deps.tables), mail.EXTRACTION_METHOD
    # python-docx and lxml load only for the documents that need them.
    from docproc.extract import docx

    # Read in place, its directory and its XML only: a DOCX's size is mostly its media.
    with open_ranged(
        deps.store, segment.input_key, ref.size, segment.input_version_id, _PACKAGE_READ_AHEAD
    ) as package:
        return docx.docx_text(package, deps.budget.reserve), docx.EXTRACTION_METHOD


def _held_whole(
    ref: DocumentRef, segment: WholeSegment, deps: SegmentDeps, factor: float, what: str
) -> bytes:
    """The upload's bytes, for a reader that holds them whole, once the segment's budget has
    ``factor`` times them to spare ("``what`` of N MB" says which, when it has not)."""
    size_mb = ref.size / 2**20
    deps.budget.reserve(size_mb * factor, f"{what} of {size_mb:.0f} MB")
    return deps.store.read_range(segment.input_key, 0, ref.size, segment.input_version_id)


def _page_extraction(methods: Mapping[int, str], piece: ChunkPiece) -> str:
    """ "text", "ocr", or "text+ocr" for a chunk across pages read both ways."""
    first = piece.page_start or min(methods)
    last = piece.page_end or first
    used = {methods[number] for number in range(first, last + 1) if number in methods}
    return "+".join(method for method in ("text", "ocr") if method in used) or "text"


def _speech_pieces(
    segment: TimeSegment, deps: SegmentDeps, heard: _Heard
) -> Iterator[tuple[ChunkPiece, str]]:
    """Transcribe the window with its overlap, keep the words that start inside the segment's
    own range (so a word at an edge is kept once, by one window), on the file's timeline."""
    # ffmpeg's libraries (~100 MB on disk) load only in workers that handle recordings.
    from docproc.extract import media

    if deps.transcriber is None:
        raise ConfigurationError("this worker has no transcriber for recordings")
    decode_start = max(0.0, segment.time_start - segment.overlap_seconds)
    decode_end = segment.time_end + segment.overlap_seconds
    source = deps.store.media_url(segment.input_key, segment.input_version_id)
    decoded = 0

    def counted(blocks: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal decoded
        for block in blocks:
            decoded += len(block)
            yield block

    utterances = deps.transcriber.transcribe(
        counted(media.decode_window(source, decode_start, decode_end)), media.SAMPLE_RATE
    )
    # Samples map to time from decode_start (decode_window fills gaps): what this segment owns
    # is the decoded span clipped to its own range.
    decoded_until = decode_start + decoded / media.BYTES_PER_SECOND
    heard.seconds = max(0.0, min(decoded_until, segment.time_end) - segment.time_start)
    deps.budget.check("transcribing")
    owned = []
    for utterance in utterances:
        words = [
            replace(word, start=word.start + decode_start, end=word.end + decode_start)
            for word in utterance.words
            if segment.time_start <= word.start + decode_start < segment.time_end
        ]
        if words:
            owned.append(Utterance(words=words))
    method = f"{media.EXTRACTION_METHOD}+{deps.transcriber.model_name}"
    for piece in deps.chunker.chunk_speech(owned):
        yield piece, method


def _mailbox_pieces(segment: BytesSegment, deps: SegmentDeps) -> Iterator[tuple[ChunkPiece, str]]:
    """The messages whose "From " line lies in the segment's range, each read whole; their
    chunks carry the message's bytes in the mailbox."""
    from docproc.extract import mail, mbox

    left = deps.budget.memory_left_mb()
    largest = None if left is None else int(left * 2**20 / mail.MESSAGE_MEMORY_FACTOR)
    for offset, size, message in mbox.owned_messages(
        deps.store,
        segment.input_key,
        segment.input_version_id,
        segment.byte_start,
        segment.byte_end,
        segment.input_size,
        largest,
    ):
        size_mb = size / 2**20
        needed_mb, reading = size_mb * mail.MESSAGE_MEMORY_FACTOR, f"a message of {size_mb:.0f} MB"
        if message is None:  # over what the segment could hold: measured, not held
            deps.budget.refuse(needed_mb, reading)
        deps.budget.reserve(needed_mb, reading)
        content = mail.message_text(io.BytesIO(message), deps.ocr, deps.tables)
        del message
        for piece in deps.chunker.chunk_text(content, 0):
            yield replace(piece, byte_start=offset, byte_end=offset + size), mail.EXTRACTION_METHOD
        deps.budget.check("reading a mailbox")


def _archive_pieces(segment: BytesSegment, deps: SegmentDeps) -> Iterator[tuple[ChunkPiece, str]]:
    """The files whose local header lies in the segment's range, each read whole as its kind;
    their chunks name the file, carry its bytes in the archive, and a paged file's pages."""
    from docproc.extract import archive

    key, version = segment.input_key, segment.input_version_id
    with open_ranged(deps.store, key, segment.input_size, version, _ARCHIVE_READ_AHEAD) as source:
        budget = deps.budget
        owned = archive.owned_files(
            source,
            segment.byte_start,
            segment.byte_end,
            deps.ocr,
            deps.tables,
            budget.reserve,
            budget.check,
        )
        for file in owned:
            # Another kind's text is chunked as a whole document's: Markdown tables cut between
            # rows, headed on each; its one "page" says nothing of the file.
            for piece in deps.chunker.chunk_pages(file.pages):
                located = replace(piece, path=file.path, byte_start=file.start, byte_end=file.end)
                if not file.paged:
                    located = replace(located, page_start=None, page_end=None)
                yield located, archive.EXTRACTION_METHOD
            deps.budget.check("reading an archive")


def _html_pieces(
    segment: BytesSegment, owned: text.TextSlice, deps: SegmentDeps
) -> Iterator[tuple[ChunkPiece, str]]:
    visible = html.range_text(
        deps.store, segment.input_key, segment.input_version_id, owned, segment.input_size
    )
    # Markup offsets do not survive stripping: chunks carry the segment's byte range.
    for piece in deps.chunker.chunk_text(visible, owned.byte_start):
        yield (
            replace(piece, byte_start=owned.byte_start, byte_end=owned.byte_end),
            html.EXTRACTION_METHOD,
        )


def _text_pieces(
    media_type: str, segment: BytesSegment, owned: text.TextSlice, chunker: Chunker
) -> Iterator[tuple[ChunkPiece, str]]:
    if media_type in (CSV, JSONL):
        body, offset = owned.text, owned.byte_start
        if media_type == CSV and owned.byte_start == 0 and segment.header is not None:
            # The header row itself: it heads every chunk instead of being one.
            first, _, body = body.partition("\n")
            offset += len(first.encode()) + 1
        header = segment.header if media_type == CSV else None
        for piece in chunker.chunk_records(body, offset, header):
            yield piece, text.EXTRACTION_METHOD
        return
    for piece in chunker.chunk_text(owned.text, owned.byte_start, markdown=media_type == MARKDOWN):
        yield piece, text.EXTRACTION_METHOD


def _chunks(task: SegmentTask, pieces: Iterator[tuple[ChunkPiece, str]]) -> Iterator[Chunk]:
    ref, index = task.document, task.segment.index
    for ordinal, (piece, method) in enumerate(pieces):
        yield Chunk(
            tenant_id=ref.tenant_id,
            case_id=ref.case_id,
            document_id=ref.document_id,
            version=ref.version,
            filename=ref.filename,
            segment=index,
            ordinal=ordinal,
            point_id=point_id(ref.tenant_id, ref.document_id, ref.version, index, ordinal),
            text=piece.text,
            chunk_hash=hashlib.sha256(piece.text.encode()).hexdigest()[:16],
            token_count=piece.token_count,
            page_start=piece.page_start,
            page_end=piece.page_end,
            byte_start=piece.byte_start,
            byte_end=piece.byte_end,
            time_start=piece.time_start,
            time_end=piece.time_end,
            speaker=piece.speaker,
            path=piece.path,
            extraction=method,
        )


def _record_failure(task: SegmentTask, ledger: Ledger, exc: Exception) -> None:
    """Best effort: the original error matters more than a failure to record it."""
    ref = task.document
    reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, DocprocError) else type(exc).__name__
    try:
        ledger.mark_segment_failed(
            ref.tenant_id, ref.document_id, ref.version, task.segment.index, reason
        )
    except Exception:  # noqa: BLE001 - never mask the original error
        logger.exception("could not record the segment failure")
    logger.warning("segment failed", extra={"error_type": type(exc).__name__})


def _gone(task: SegmentTask) -> SegmentResult:
    ref = task.document
    return SegmentResult(
        tenant_id=ref.tenant_id,
        document_id=ref.document_id,
        version=ref.version,
        segment=task.segment.index,
        skipped=True,
        gone=True,
        chunks=0,
        tokens=0,
        output_key=ref.chunks_key(task.segment.index),
        duration_ms=0,
        peak_rss_mb=0,
    )


def _result(task: SegmentTask, record: SegmentRecord, skipped: bool) -> SegmentResult:
    ref = task.document
    return SegmentResult(
        tenant_id=ref.tenant_id,
        document_id=ref.document_id,
        version=ref.version,
        segment=record.index,
        skipped=skipped,
        chunks=record.chunks,
        tokens=record.tokens,
        pages=record.pages,
        pages_ocr=record.pages_ocr,
        bytes=record.bytes,
        seconds=record.seconds,
        output_key=record.output_key or ref.chunks_key(record.index),
        duration_ms=record.duration_ms,
        peak_rss_mb=record.peak_rss_mb,
        attempt=record.attempts,
    )
