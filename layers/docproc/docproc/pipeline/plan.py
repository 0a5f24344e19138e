"""Plan: pin the uploaded version, detect its type, cut it into segments, write the manifest."""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from docproc.config import SegmentingSettings
from docproc.errors import InvalidDocument, NoExtractableText
from docproc.extract.ocr import OcrMode
from docproc.extract.pages import PageRange, page_ranges, weighted_ranges
from docproc.extract.sniff import (
    CONTAINERS,
    CSV,
    DOC,
    DOCX,
    EML,
    EMLX,
    MBOX,
    MEDIA_TYPES,
    MSG,
    OPEN_DOCUMENTS,
    P7M,
    PAGED,
    PICTURE_TYPES,
    PPT,
    PPTX,
    PST,
    REPACKED,
    RTF,
    SNIFF_BYTES,
    SPREADSHEETML,
    TEXT_TYPES,
    TNEF,
    WORDML,
    XLS,
    XLSX,
    ZIP,
    Detected,
    sniff,
    sniff_container,
    type_for_name,
)
from docproc.ledger.port import Ledger
from docproc.models import (
    BytesSegment,
    DocumentKey,
    DocumentRef,
    PagesSegment,
    PlanResult,
    S3Location,
    Segment,
    SegmentTask,
    TimeSegment,
    WholeSegment,
    object_version,
)
from docproc.observability import logger
from docproc.storage.port import ObjectStore
from docproc.storage.ranged import open_ranged

if TYPE_CHECKING:
    from zipfile import ZipFile

    from docproc.extract.archive import Member

# An archive's segment reads at most this many files (small ones: each is a document's worth
# of work to start, whatever its size).
ARCHIVE_FILES_PER_SEGMENT = 100


@dataclass(frozen=True)
class PlanOptions:
    segment_pages: int = 50
    segment_bytes: int = 8 * 1024 * 1024
    segment_seconds: float = 600
    segment_overlap_seconds: float = 3
    max_concurrency: int = 10
    tmp_dir: Path | None = None
    ocr: OcrMode = "auto"
    ocr_segment_pages: int = 10

    @classmethod
    def from_settings(cls, settings: SegmentingSettings, max_concurrency: int) -> PlanOptions:
        return cls(
            ocr=settings.ocr,
            ocr_segment_pages=settings.ocr_segment_pages,
            segment_pages=settings.segment_pages,
            segment_bytes=settings.segment_bytes,
            segment_seconds=settings.segment_seconds,
            segment_overlap_seconds=settings.segment_overlap_seconds,
            max_concurrency=max_concurrency,
        )


def plan_document(
    key: str,
    version_id: str | None,
    store: ObjectStore,
    ledger: Ledger,
    options: PlanOptions,
    execution_arn: str | None = None,
    sequence: str = "",
) -> PlanResult:
    ids = DocumentKey.from_object_key(key)
    info = store.head(key, version_id)
    version = object_version(info.version_id, info.etag)
    if info.size == 0:
        raise InvalidDocument("the object is empty")
    detected = sniff(store.read_range(key, 0, SNIFF_BYTES, info.version_id), ids.filename)
    if detected.media_type in CONTAINERS:
        # The member names sit at the archive's end, a compound file's streams in its
        # directory: a few ranged reads, not a download.
        with open_ranged(store, key, info.size, info.version_id) as container:
            detected = Detected(sniff_container(detected.media_type, container))
    media_type = detected.media_type
    _log_name_mismatch(ids.filename, media_type)
    ref = DocumentRef(
        tenant_id=ids.tenant_id,
        case_id=ids.case_id,
        document_id=ids.document_id,
        version=version,
        filename=ids.filename,
        bucket=store.bucket,
        source_key=key,
        source_version_id=info.version_id,
        etag=info.etag,
        fingerprint=info.fingerprint,
        sequence=sequence,
        size=info.size,
        media_type=media_type,
    )
    logger.append_keys(version=version)

    existing = ledger.get_document(ids.tenant_id, ids.document_id)
    if existing is not None and (
        existing.completed_version == version or existing.completed_fingerprint == ref.fingerprint
    ):
        # The same version again (a duplicate event), or a new version with the same content.
        logger.info("this content is already ingested; nothing to do")
        return PlanResult(
            status="already_ingested", document=ref, segments_total=existing.segments_total
        )

    tasks = _existing_manifest(store, ref)
    if tasks is None:
        segments = _segments(ref, detected, store, options)
        tasks = [SegmentTask(document=ref, segment=s) for s in segments]
        manifest = json.dumps([task.model_dump(mode="json") for task in tasks]).encode()
        store.put_bytes(ref.manifest_key, manifest, "application/json")
    else:
        logger.info("manifest already written for this version; reusing it")

    record = ledger.start_document(ref, len(tasks), execution_arn)
    if record.version != version:
        logger.info("a newer upload of this key holds the document; nothing to do")
        return PlanResult(status="superseded", document=ref, segments_total=len(tasks))
    logger.info("planned", extra={"segments_total": len(tasks), "media_type": media_type})
    return PlanResult(
        status="planned",
        document=ref,
        segments_total=len(tasks),
        manifest=S3Location(bucket=store.bucket, key=ref.manifest_key),
        first_task=tasks[0] if len(tasks) == 1 else None,
        max_concurrency=options.max_concurrency,
        execution_arn=execution_arn,
    )


def _existing_manifest(store: ObjectStore, ref: DocumentRef) -> list[SegmentTask] | None:
    """A manifest is written after every segment input: if it exists, planning is done."""
    if not store.exists(ref.manifest_key):
        return None
    items = json.loads(store.get_bytes(ref.manifest_key))
    return [SegmentTask.model_validate(item) for item in items]


def _segments(
    ref: DocumentRef, detected: Detected, store: ObjectStore, options: PlanOptions
) -> list[Segment]:
    if ref.media_type in PAGED:
        return _page_segments(ref, store, options, PAGED[ref.media_type], attachments=True)
    if ref.media_type in PICTURE_TYPES:
        return _picture_segments(ref, store, options)
    if ref.media_type in (DOCX, DOC, XLSX, XLS, PPTX, PPT, EML, EMLX, MSG, TNEF, P7M, RTF) or (
        ref.media_type in OPEN_DOCUMENTS or ref.media_type in (WORDML, SPREADSHEETML)
    ):
        # Not splittable by range: one worker reads it whole.
        return [
            WholeSegment(index=0, input_key=ref.source_key, input_version_id=ref.source_version_id)
        ]
    if ref.media_type in TEXT_TYPES:
        return _byte_segments(ref, detected, store, options)
    if ref.media_type == ZIP:
        return _archive_segments(ref, store, options)
    if ref.media_type in REPACKED:
        return _repacked_archive_segments(ref, store, options)
    if ref.media_type == MBOX:
        # Its messages say their own encodings: ranges of its bytes as they are.
        return _byte_segments(ref, Detected(MBOX), store, options)
    if ref.media_type in MEDIA_TYPES:
        return _time_segments(ref, store, options)
    raise AssertionError(f"sniff returned an unplanned type {ref.media_type}")


def _time_segments(ref: DocumentRef, store: ObjectStore, options: PlanOptions) -> list[Segment]:
    """Windows of ``segment_seconds``; only the container's header is read to learn the
    duration (ffmpeg reads the object through a presigned URL, nothing is downloaded)."""
    from docproc.extract import media

    info = media.probe(store.media_url(ref.source_key, ref.source_version_id))
    logger.info(
        "probed recording",
        extra={
            "duration_seconds": round(info.duration_seconds, 3),
            "audio_codec": info.audio_codec,
            "has_video": info.has_video,
        },
    )
    count = max(1, math.ceil(info.duration_seconds / options.segment_seconds))
    return [
        TimeSegment(
            index=index,
            time_start=index * options.segment_seconds,
            time_end=(index + 1) * options.segment_seconds
            if index < count - 1
            # The last window owns everything to the end, even past a header's estimate of
            # the duration (MP3s without a table of contents are estimated from the bitrate).
            else info.duration_seconds + options.segment_seconds,
            overlap_seconds=options.segment_overlap_seconds,
            input_key=ref.source_key,
            input_version_id=ref.source_version_id,
        )
        for index in range(count)
    ]


def _page_segments(
    ref: DocumentRef,
    store: ObjectStore,
    options: PlanOptions,
    filetype: str,
    first: int = 0,
    attachments: bool = False,
) -> list[Segment]:
    """Page ranges of the paged file ``ref.source_key``, numbered from ``first``; then, for
    a PDF uploaded (``attachments``), the files attached to it (_attached_files)."""
    # MuPDF (~30 MB, ~0.1 s) loads only for paged documents; the laptop's segment workers,
    # which import this module, load it only when they handle pages.
    from docproc.extract import pdf

    with store.local_copy(ref.source_key, ref.source_version_id) as source:
        with pdf.open_document(source, filetype) as document:
            count = int(document.page_count)
            # Looked at in the same opening (a small file's plan opened it twice): a PDF
            # seldom has any, and is opened again to repack them only when it has.
            has_attached = attachments and filetype == "pdf" and bool(pdf.attached_files(document))
        scanned: list[bool] = []
        if options.ocr == "off" or count <= min(options.segment_pages, options.ocr_segment_pages):
            # One segment whatever its pages are: no need to look at them.
            ranges = page_ranges(count, options.segment_pages)
        else:
            # Scanned pages take OCR's time: fewer of them to a segment.
            scanned = (
                [True] * count if options.ocr == "force" else pdf.scanned_pages(source, filetype)
            )
            ranges = weighted_ranges(scanned, options.segment_pages, options.ocr_segment_pages)
        scans = _counted(scanned)
        if len(ranges) == 1 or (store.reads_in_place and filetype == "pdf"):
            # No sub-PDF: each worker opens the pinned upload and reads its own pages. Always
            # for one segment (the small-file fast path); for more where the store is a local
            # folder, as opening a large PDF costs nothing there and copying it out does (a
            # reflowable format is still converted once: each opening lays it all out).
            segments = _upload_segments(ref, ranges, filetype, scans, first)
        else:
            parts = pdf.split(source, ranges, options.tmp_dir, filetype)
            segments = _part_segments(ref, store, ranges, parts, "pdf", scans, first)
        attached = _attached_files(ref, store, source) if has_attached else None
    if attached is not None:
        # (planned once the upload's copy is let go: a large attached PDF is unpacked next)
        segments += _archive_segments(attached, store, options, first + len(segments))
    return segments


def _attached_files(ref: DocumentRef, store: ObjectStore, source: Path) -> DocumentRef | None:
    """The files attached to the PDF ``source`` (a portfolio's documents, a brief's
    exhibits), written to a ZIP in the document's work folder, to be planned as a ZIP
    archive's files are (each read as its kind, its chunks under its name): the ZIP as a
    document to plan, None where there are none."""
    from docproc.extract import pdf

    with pdf.open_document(source) as document:
        attached = pdf.attached_files(document)
        if not attached:
            return None
        # Imported only here: archive brings the readers of every kind a file may be (15 ms
        # of a PDF's cold start when it was imported for every PDF).
        from docproc.extract import archive

        key = ref.repacked_archive_key
        with store.writer(key, "application/zip") as target:
            repacked = pdf.repack_attached(document, attached, target, archive.REPACK_LIMIT)
    logger.info(
        "repacked a PDF's attached files",
        extra={"files": repacked.files, "repacked_bytes": repacked.size},
    )
    if not repacked.files:
        return None
    return ref.model_copy(
        update={"source_key": key, "source_version_id": None, "size": repacked.size}
    )


def _picture_segments(ref: DocumentRef, store: ObjectStore, options: PlanOptions) -> list[Segment]:
    """A picture's pages (a TIFF's frames), every one a scan: ``ocr_segment_pages`` to a
    segment. As with a PDF, a segment reads the upload itself when it is the only one or the
    store is a local folder; otherwise its own TIFF of its frames (see pictures.split)."""
    from docproc.extract import pictures

    def every_page(pages: PageRange) -> int:
        return pages.end - pages.start + 1

    with store.local_copy(ref.source_key, ref.source_version_id) as source:
        ranges = page_ranges(pictures.count_pages(source), options.ocr_segment_pages)
        if len(ranges) == 1 or store.reads_in_place:
            filetype = ref.media_type.removeprefix("image/")
            return _upload_segments(ref, ranges, filetype, every_page)
        parts = pictures.split(source, ranges, options.tmp_dir)
        return _part_segments(ref, store, ranges, parts, "tiff", every_page)


def _counted(scanned: list[bool]) -> Callable[[PageRange], int]:
    """How many of a range's pages Plan guessed are scans (none when it did not look)."""
    return lambda pages: sum(scanned[pages.start - 1 : pages.end])


def _upload_segments(
    ref: DocumentRef,
    ranges: list[PageRange],
    filetype: str,
    scans: Callable[[PageRange], int],
    first: int = 0,
) -> list[Segment]:
    """A segment per range, each reading its pages of the pinned upload itself."""
    return [
        PagesSegment(
            index=first + index,
            page_start=pages.start,
            page_end=pages.end,
            input_key=ref.source_key,
            input_version_id=ref.source_version_id,
            input_filetype=filetype,
            scanned_pages=scans(pages),
        )
        for index, pages in enumerate(ranges)
    ]


# A range's own file, by its format: the key's suffix and the content type it is stored as.
_PART_FORMATS = {"pdf": ("pdf", "application/pdf"), "tiff": ("tif", "image/tiff")}


def _part_segments(
    ref: DocumentRef,
    store: ObjectStore,
    ranges: list[PageRange],
    parts: Iterator[tuple[int, Path]],
    filetype: str,
    scans: Callable[[PageRange], int],
    first: int = 0,
) -> list[Segment]:
    """A segment per range, each reading a file of its own pages (``parts``, one on disk at
    a time: each is stored, then removed, before the next is made); numbered from ``first``."""
    suffix, content_type = _PART_FORMATS[filetype]
    segments: list[Segment] = []
    for index, part in parts:
        input_key = ref.segment_input_key(first + index, suffix)
        try:
            store.put_file(input_key, part, content_type)
        finally:
            part.unlink(missing_ok=True)
        pages = ranges[index]
        segments.append(
            PagesSegment(
                index=first + index,
                page_start=pages.start,
                page_end=pages.end,
                input_key=input_key,
                input_filetype=filetype,
                scanned_pages=scans(pages),
            )
        )
    return segments


# Transcoding streams in blocks of this size: memory stays flat whatever the file size.
_TRANSCODE_BLOCK = 4 * 1024 * 1024


def _archive_segments(
    ref: DocumentRef, store: ObjectStore, options: PlanOptions, first: int = 0
) -> list[Segment]:
    """Byte ranges of a ZIP archive cut between its files (from its central directory: a few
    ranged reads), each up to SEGMENT_BYTES of them compressed or ARCHIVE_FILES_PER_SEGMENT
    files; a range owns the files whose local header lies in it (docproc.extract.archive).
    A paged file of SEGMENT_BYTES or more (a PDF of a thousand scans) is unpacked into the
    document's work folder and cut into page ranges as an upload is (numbered first), its
    bytes left out of the byte ranges: one segment could not read it in its time, nor hold it
    on its disk. Numbered from ``first``."""
    from docproc.extract import archive

    segments: list[Segment] = []
    paged: set[int] = set()
    with (
        open_ranged(store, ref.source_key, ref.size, ref.source_version_id) as source,
        archive.opened(source) as zipped,
    ):
        files = archive.members(zipped)
        if not files:
            raise NoExtractableText("the archive holds no files")
        for member, filetype in archive.large_paged_files(zipped, files, options.segment_bytes):
            try:
                segments += _archived_page_segments(
                    ref, store, options, zipped, member, filetype, first + len(segments)
                )
            except InvalidDocument as exc:
                # Damaged past its first bytes (MuPDF cannot open it, its CRC fails): the byte
                # range that holds it names it with why, and the rest is read.
                logger.warning(
                    "a large file in the archive is left to its byte range",
                    extra={"error": type(exc).__name__},
                )
                continue
            paged.add(member.start)
    ranges: list[tuple[int, int]] = []
    start, size, count = 0, 0, 0
    for member in files:
        if member.start in paged:
            if count:
                ranges.append((start, member.start))
            start, size, count = member.end, 0, 0
            continue
        if count and (
            size + member.end - member.start > options.segment_bytes
            or count == ARCHIVE_FILES_PER_SEGMENT
        ):
            ranges.append((start, member.start))
            start, size = member.start, 0
            count = 0
        size, count = size + member.end - member.start, count + 1
    if count:
        ranges.append((start, ref.size))
    ranges_first = first + len(segments)
    segments += [
        BytesSegment(
            index=ranges_first + index,
            byte_start=begin,
            byte_end=end,
            input_key=ref.source_key,
            input_version_id=ref.source_version_id,
            input_size=ref.size,
        )
        for index, (begin, end) in enumerate(ranges)
    ]
    return segments


# An archive repacked is read from end to end once: in requests of this size (a few hundred
# for 1 GB).
_REPACK_READ_AHEAD = 8 * 1024 * 1024


def _repacked_archive_segments(
    ref: DocumentRef, store: ObjectStore, options: PlanOptions
) -> list[Segment]:
    """A 7z, a tar or a compressed file, repacked into a ZIP of its files in the document's
    work folder (one decompression, here: a solid archive or a compressed stream cannot be
    read from the middle), then planned as a ZIP archive is, its segments reading that ZIP
    (archive.repack). An Outlook data file likewise: its messages and their attachments."""
    from docproc.extract import archive

    key = ref.repacked_archive_key
    with (
        _repack_source(ref, store) as source,
        store.writer(key, "application/zip") as target,
    ):
        repacked = archive.repack(ref.media_type, source, target, ref.size, ref.filename)
    logger.info(
        "repacked an archive", extra={"files": repacked.files, "repacked_bytes": repacked.size}
    )
    zipped = ref.model_copy(
        update={"source_key": key, "source_version_id": None, "size": repacked.size}
    )
    return _archive_segments(zipped, store, options)


@contextmanager
def _repack_source(ref: DocumentRef, store: ObjectStore) -> Iterator[IO[bytes]]:
    """The upload to repack: read from its start in large ranged reads; a PST, read where its
    B-trees point, from a copy on this function's disk (beside the ZIP: the template gives
    Plan room for both)."""
    if ref.media_type != PST:
        with open_ranged(
            store, ref.source_key, ref.size, ref.source_version_id, _REPACK_READ_AHEAD
        ) as source:
            yield source
        return
    with store.local_copy(ref.source_key, ref.source_version_id) as path, path.open("rb") as source:
        yield source


def _archived_page_segments(
    ref: DocumentRef,
    store: ObjectStore,
    options: PlanOptions,
    zipped: ZipFile,
    member: Member,
    filetype: str,
    first: int,
) -> list[Segment]:
    """A large paged file of an archive, unpacked beside the segments' inputs, in page ranges
    numbered from ``first``, each carrying the file's path."""
    from docproc.extract import archive

    key = ref.segment_input_key(first, f"file.{filetype}")
    with store.writer(key, "application/octet-stream") as target:
        archive.unpack(zipped, member, target)
    unpacked = ref.model_copy(
        update={"source_key": key, "source_version_id": None, "size": member.info.file_size}
    )
    try:
        segments = _page_segments(unpacked, store, options, filetype, first)
        if not segments:
            raise InvalidDocument("a paged file of no pages")
    except InvalidDocument:
        store.delete_keys([key])
        raise
    return [segment.model_copy(update={"path": member.path}) for segment in segments]


def _byte_segments(
    ref: DocumentRef, detected: Detected, store: ObjectStore, options: PlanOptions
) -> list[Segment]:
    input_key, input_version, size = ref.source_key, ref.source_version_id, ref.size
    if detected.encoding not in ("utf-8", "utf-8-sig", None):
        # Ranges must fall on UTF-8 boundaries: other encodings are transcoded once, here.
        input_key, size = _transcode(ref, detected.encoding, store)
        input_version = None
    header = None
    if ref.media_type == CSV:
        first = store.read_range(input_key, 0, min(size, 64 * 1024), input_version)
        header = first.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff")
    return [
        BytesSegment(
            index=index,
            byte_start=start,
            byte_end=min(start + options.segment_bytes, size),
            input_key=input_key,
            input_version_id=input_version,
            input_size=size,
            header=header,
        )
        for index, start in enumerate(range(0, size, options.segment_bytes))
    ]


def _transcode(ref: DocumentRef, encoding: str, store: ObjectStore) -> tuple[str, int]:
    key = ref.transcoded_text_key
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    size = 0
    with (
        store.local_copy(ref.source_key, ref.source_version_id) as source,
        store.writer(key, "text/plain; charset=utf-8") as target,
        source.open("rb") as reader,
    ):
        while block := reader.read(_TRANSCODE_BLOCK):
            data = decoder.decode(block).lstrip("\ufeff") if size == 0 else decoder.decode(block)
            encoded = data.encode("utf-8")
            target.write(encoded)
            size += len(encoded)
        tail = decoder.decode(b"", final=True).encode("utf-8")
        target.write(tail)
        size += len(tail)
    logger.info("transcoded to UTF-8", extra={"encoding": encoding})
    return key, size


def _log_name_mismatch(filename: str, media_type: str) -> None:
    expected = type_for_name(filename)
    if expected and expected != media_type:
        # The content wins; the name is only logged, never the name itself (it may be personal).
        logger.warning(
            "file extension does not match the content",
            extra={"extension_type": expected, "detected_type": media_type},
        )
