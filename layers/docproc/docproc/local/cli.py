"""The ``docproc`` command: the pipeline on a laptop, no AWS account and no API key needed."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from docproc.config import LocalSettings, batches_in_flight, load_settings
from docproc.errors import (
    ConfigurationError,
    DocprocError,
    InvalidDocument,
    InvalidEvent,
    PermanentDependencyError,
    TransientError,
)
from docproc.handlers import parse_event
from docproc.ledger.records import utc_now
from docproc.local.folders import DocumentOutcome, ingest_all, select
from docproc.local.runner import (
    IngestReport,
    LocalEnvironment,
    SegmentFailures,
    case_documents,
    delete_local_document,
    ingest,
)
from docproc.models import (
    Chunk,
    ExecutionStatusChangeEvent,
    PlanRequest,
    PlanResult,
    ReindexTarget,
    S3ObjectEvent,
    SegmentTask,
    validate_id,
)
from docproc.observability import log_to_stderr
from docproc.pipeline.cleanup import cleanup, parse_age
from docproc.pipeline.delete import delete_uploaded_object
from docproc.pipeline.finalize import finalize_document
from docproc.pipeline.notify_failure import notify_failure
from docproc.pipeline.plan import plan_document
from docproc.pipeline.process_segment import process_segment
from docproc.pipeline.reindex import ReindexDeps, ReindexReport, reindex
from docproc.pipeline.status import document_progress, ledger_stats
from docproc.vectors.port import COLLECTION_PREFIX_PATTERN
from docproc.wiring import collection_of

INGEST_HELP = """Ingest each PATH: a file, or a folder walked recursively (hidden files and
files docproc cannot read are skipped and counted). A folder's documents are named by their
path inside it (sub/lease.pdf -> sub--lease). Exit status: 0 every document done, 1 some
failed, 2 every one refused for its content. Run the same command again to resume."""

EXIT_FAILED = 1
EXIT_REJECTED = 2
EXIT_INTERRUPTED = 130
# 128 + SIGPIPE, what a Unix tool killed by a closed pipe reports.
EXIT_BROKEN_PIPE = 141


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _progress_bar(
    enabled: bool, unit: str = "segment"
) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; it appears only after a second."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, unit=unit, delay=1.0, file=sys.stderr)
        bar["bar"].total = total
        # update(), not setting n: it keeps tqdm's own account of what it showed, so the bar
        # appears after its delay and close() leaves it whole, on its own line.
        bar["bar"].update(done - bar["bar"].n)

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return update, close


def cmd_ingest(env: LocalEnvironment, args: argparse.Namespace) -> int:
    paths = [Path(path) for path in args.paths]
    if len(paths) == 1 and paths[0].is_file() and not args.glob:
        return _ingest_file(env, args, paths[0])
    if args.document_id:
        raise InvalidDocument("--document-id names one file's document: give one file")
    return _ingest_many(env, args, paths)


def _ingest_file(env: LocalEnvironment, args: argparse.Namespace, path: Path) -> int:
    update, close = _progress_bar(not args.json)
    try:
        report: IngestReport = ingest(
            env, path, args.tenant, args.case, args.document_id, progress=update
        )
    finally:
        close()
    if args.json:
        _print_json(report.model_dump())
    else:
        print(
            f"{report.document_id} v{report.version[:12]}: {report.status} - "
            f"{report.segments_total} segments ({report.segments_processed} processed, "
            f"{report.segments_skipped} skipped), {report.chunks_total} chunks, "
            f"{_extent(report.pages, report.bytes, report.seconds)}, {report.duration_ms} ms"
            + (f" on {report.workers} process(es)" if report.workers else "")
        )
    return 0


def _ingest_many(env: LocalEnvironment, args: argparse.Namespace, paths: list[Path]) -> int:
    """Files and folders: one line per document (JSON Lines with --json), then a summary."""
    from tqdm import tqdm

    selection = select(paths, args.glob)
    # One bar over the segments of every document (its total grows as the documents are
    # planned), with the documents finished beside it.
    bar = (
        tqdm(unit="segment", delay=1.0, file=sys.stderr)
        if not args.json and sys.stderr.isatty()
        else None
    )

    def segments_done(done: int, total: int) -> None:
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    outcomes: list[DocumentOutcome] = []
    try:
        for outcome in ingest_all(
            env, selection.documents, args.tenant, args.case, progress=segments_done
        ):
            outcomes.append(outcome)
            if bar is not None:
                bar.set_postfix_str(f"{len(outcomes)}/{len(selection.documents)} documents")
            if args.json:
                print(outcome.model_dump_json(), flush=True)
            else:
                print(_outcome_line(outcome), flush=True)
    finally:
        if bar is not None:
            bar.close()
    counts = Counter(outcome.status for outcome in outcomes)
    skipped = sum(1 for outcome in outcomes if outcome.status == "complete" and outcome.skipped)
    summary = {
        "documents": len(outcomes),
        "complete": counts["complete"],
        "already_complete": skipped,
        "superseded": counts["superseded"],
        "failed": counts["failed"],
        "rejected": counts["rejected"],
        "hidden_skipped": selection.hidden,
        "unsupported_skipped": len(selection.unsupported),
    }
    if args.json:
        print(json.dumps({"summary": summary}))
    else:
        for path, what in selection.unsupported:
            print(f"skipped {path}: {what}", file=sys.stderr)
        width = max(len(name) for name in summary)
        print("\n".join(f"{name:<{width}}  {value}" for name, value in summary.items()))
    if not outcomes or all(o.status in ("complete", "superseded") for o in outcomes):
        return 0
    if all(outcome.status == "rejected" for outcome in outcomes):
        return EXIT_REJECTED
    return EXIT_FAILED


def _outcome_line(outcome: DocumentOutcome) -> str:
    if outcome.error:
        return f"{outcome.document_id}: {outcome.status} - {outcome.error}"
    done = "already complete" if outcome.skipped else outcome.status
    return (
        f"{outcome.document_id}: {done} - {outcome.segments_total} segments, "
        f"{outcome.chunks_total} chunks, "
        f"{_extent(outcome.pages, outcome.bytes, outcome.seconds)}, {outcome.duration_ms} ms"
    )


def cmd_reindex(env: LocalEnvironment, args: argparse.Namespace) -> int:
    """Embed every document's searchable chunks with another model, into its collection:
    here, or by the cloud's Reindex state machine when one is named."""
    arn = args.state_machine_arn or os.environ.get("REINDEX_STATE_MACHINE_ARN")
    if arn:
        return _start_cloud_reindex(env, arn, args)
    target = LocalEnvironment(
        env.settings.model_copy(update=_reindex_target(env, args).settings_update())
    )
    # The collection in use is named, and opened only where a model re-index reads its chunks
    # from it (as the Reindex function does): BM25 only reads the target's own points, and a
    # target that is the collection in use (refused) has it open already.
    in_use = collection_of(env.settings, env.settings)
    unit = "document" if args.bm25_only else "segment"
    update, close = _progress_bar(not args.json and not args.dry_run, unit)
    try:
        report = reindex(
            ReindexDeps(
                ledger=target.ledger,
                store=target.store,
                embedder=target.embedder,
                vectors=target.vectors,
                pricing=target.pricing,
                collection_in_use=in_use,
                source=(
                    None if args.bm25_only or target.vectors.collection == in_use else env.vectors
                ),
                sparse=target.sparse,
                batch_size=target.settings.embed_batch_size,
                batches_in_flight=batches_in_flight(target.settings, target.settings),
                bm25_only=args.bm25_only,
            ),
            dry_run=args.dry_run,
            progress=update,
        )
    finally:
        close()
        target.close()
    _print_reindex_report(report, args)
    return 0


def _reindex_target(env: LocalEnvironment, args: argparse.Namespace) -> ReindexTarget:
    """The model and collection of ``docproc reindex``: --model, or with --bm25-only alone the
    configured one (the collection in use)."""
    if args.model is None and not args.bm25_only:
        raise ConfigurationError("give --model (the new EMBEDDING_MODEL), or --bm25-only")
    model, dimensions = args.model, args.dimensions
    if model is None:
        model, dimensions = env.settings.embedding_model, env.settings.embedding_dimensions
    return ReindexTarget(
        embedding_model=model,
        embedding_dimensions=dimensions,
        collection_prefix=args.collection_prefix,
        bm25_only=args.bm25_only,
    )


def _print_reindex_report(report: ReindexReport, args: argparse.Namespace) -> None:
    if args.json:
        _print_json(report.model_dump())
        return
    if report.documents_without_totals:
        print(
            f"{report.documents_without_totals} documents not re-indexed: the ledger does not "
            "know their searchable version's segments (rows from an older docproc, with a newer "
            "upload since started); they are once an upload of them completes",
            file=sys.stderr,
        )
    if args.bm25_only:
        action = "would set BM25 vectors of" if report.dry_run else "set BM25 vectors of"
        print(
            f"{report.collection}: {action} {report.documents} documents "
            f"({report.segments_skipped} already done"
            + (
                f", {report.segments_gone} deleted or replaced since"
                if report.segments_gone
                else ""
            )
            + "); its dense vectors are as they were"
        )
        return
    action = "would embed" if report.dry_run else "embedded"
    settings = {
        "EMBEDDING_MODEL": args.model,
        "EMBEDDING_DIMENSIONS": args.dimensions,
        "QDRANT_COLLECTION_PREFIX": args.collection_prefix,
    }
    print(
        f"{report.collection}: {action} {report.documents} documents, {report.segments} "
        f"segments ({report.segments_skipped} already done"
        + (f", {report.segments_gone} deleted or replaced since" if report.segments_gone else "")
        + f"), {report.tokens:,} tokens, "
        f"~${report.estimated_cost_usd:.4f} with {report.embedding_model}"
        + (
            ""
            if report.dry_run
            else "; search it with "
            + " ".join(f"{name}={value}" for name, value in settings.items() if value)
        )
    )


def _state_machine_client(arn: str) -> Any:
    import boto3

    return boto3.client("stepfunctions", region_name=arn.split(":")[3])


def _start_execution(arn: str, prefix: str, execution_input: dict[str, Any]) -> str:
    """Start a state machine of a deployed stack with the environment's AWS credentials."""
    started = _state_machine_client(arn).start_execution(
        stateMachineArn=arn,
        name=f"{prefix}-{utc_now():%Y%m%dT%H%M%S}-{os.getpid()}",
        input=json.dumps(execution_input),
    )
    return str(started["executionArn"])


def _state_machine_arn(given: str | None, variable: str, output: str) -> str:
    arn = given or os.environ.get(variable)
    if not arn:
        raise ConfigurationError(
            f"give --state-machine-arn (the stack's {output} output) or set {variable}"
        )
    return arn


def cmd_backfill(env: LocalEnvironment, args: argparse.Namespace) -> int:
    """Start the cloud's Backfill state machine over a prefix of uploads/ (README: Backfill)."""
    if not args.prefix.startswith("uploads/"):
        raise InvalidDocument("--prefix must be uploads/ or a folder under it")
    arn = _state_machine_arn(
        args.state_machine_arn, "BACKFILL_STATE_MACHINE_ARN", "BackfillStateMachineArn"
    )
    execution_arn = _start_execution(
        arn,
        "backfill",
        {
            "prefix": args.prefix,
            "max_concurrency": args.max_concurrency,
            "tolerated_failure_percentage": args.tolerated_failure_percentage,
        },
    )
    if args.json:
        _print_json({"execution_arn": execution_arn})
    else:
        print(f"backfill of {args.prefix} started: {execution_arn}")
    return 0


def _start_cloud_reindex(env: LocalEnvironment, arn: str, args: argparse.Namespace) -> int:
    """Start the cloud's Reindex state machine; a dry run waits for its report (it only reads
    the ledger)."""
    execution_arn = _start_execution(
        arn,
        "reindex",
        {
            "target": _reindex_target(env, args).model_dump(exclude_none=True),
            "dry_run": args.dry_run,
            "max_concurrency": args.max_concurrency,
            "tolerated_failure_percentage": args.tolerated_failure_percentage,
        },
    )
    if not args.dry_run:
        if args.json:
            _print_json({"execution_arn": execution_arn})
        else:
            target = _reindex_target(env, args)
            print(f"re-index with {target.embedding_model} started: {execution_arn}")
        return 0
    client = _state_machine_client(arn)
    deadline = time.monotonic() + 300
    while (described := client.describe_execution(executionArn=execution_arn))[
        "status"
    ] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(1)
    if described["status"] == "RUNNING":
        raise TransientError(f"the dry run {execution_arn} is still running: see its output")
    if described["status"] != "SUCCEEDED":
        raise PermanentDependencyError(
            f"the dry run {execution_arn} ended {described['status']}: {described.get('error', '')}"
        )
    report = ReindexReport.model_validate(json.loads(described["output"])["report"])
    _print_reindex_report(report, args)
    return 0


def cmd_status(env: LocalEnvironment, args: argparse.Namespace) -> int:
    report = document_progress(
        env.ledger, args.tenant, validate_id(args.document_id, "document id")
    )
    if report is None:
        raise InvalidDocument(f"unknown document {args.document_id} for tenant {args.tenant}")
    if args.json:
        _print_json(report.model_dump(mode="json"))
        return 0
    rate = f"{report.rate_per_minute} segments/min" if report.rate_per_minute else "-"
    eta = f"{report.eta_seconds:.0f}s" if report.eta_seconds is not None else "-"
    print(
        f"{report.document_id} ({report.tenant_id}/{report.case_id}) v{report.version[:12]}\n"
        f"  phase      {report.phase}\n"
        f"  progress   {report.segments_done}/{report.segments_total} segments "
        f"({report.percent}%), {report.chunks_total} chunks\n"
        f"  rate       {rate}, eta {eta}\n"
        f"  attempts   {report.attempts}, failed segments {report.segments_failed or '-'}\n"
        f"  updated    {report.updated_at:%Y-%m-%d %H:%M:%S}"
        + (f"\n  last error {report.last_error}" if report.last_error else "")
    )
    return 0


def cmd_stats(env: LocalEnvironment, args: argparse.Namespace) -> int:
    stats = ledger_stats(env.ledger)
    if args.json:
        _print_json(stats.model_dump())
        return 0
    print(f"documents          {stats.documents}")
    print(
        "by status          " + (", ".join(f"{k} {v}" for k, v in stats.by_status.items()) or "-")
    )
    print("by phase           " + (", ".join(f"{k} {v}" for k, v in stats.by_phase.items()) or "-"))
    print(f"resumable          {stats.resumable}")
    print(f"resumed            {stats.resumed}")
    print(f"failed             {stats.failed}")
    print(f"average progress   {stats.average_progress_percent}%")
    print(f"segments retried   {stats.segments_retried}")
    return 0


def cmd_cleanup(env: LocalEnvironment, args: argparse.Namespace) -> int:
    report = cleanup(env.ledger, env.store, parse_age(args.older_than), utc_now())
    if args.json:
        _print_json(report.model_dump())
    else:
        print(
            f"removed {report.expired_segment_rows} expired segment rows and "
            f"{report.work_objects_deleted} work objects of {len(report.documents_cleaned)} "
            "document(s)"
        )
    return 0


def _extent(pages: int, size: int, seconds: float) -> str:
    """How much was read, in the unit of the format."""
    if seconds:
        return f"{seconds / 60:.1f} min of audio"
    if size:
        return f"{size} bytes"
    return f"{pages} pages"


def _provenance(payload: dict[str, Any]) -> str:
    if payload.get("path"):  # a file inside an archive: its path, and its pages where paged
        start = payload.get("page_start")
        where = "" if start is None else f", {_provenance({**payload, 'path': None})}"
        return f"{payload['path']}{where}"
    if payload.get("page_start") is not None:
        start, end = payload["page_start"], payload["page_end"]
        return f"page {start}" if start == end else f"pages {start}-{end}"
    if payload.get("byte_start") is not None:
        return f"bytes {payload['byte_start']}-{payload['byte_end']}"
    if payload.get("time_start") is not None:
        return f"{payload['time_start']:.1f}s-{payload['time_end']:.1f}s"
    return "-"


def cmd_search(env: LocalEnvironment, args: argparse.Namespace) -> int:
    vector = env.embedder.embed([args.query])[0] if args.mode != "bm25" else None
    sparse = env.sparse.encode_query(args.query) if args.mode != "dense" else None
    hits = env.searcher().search(
        vector,
        validate_id(args.tenant, "tenant"),
        sparse=sparse,
        case_id=args.case,
        document_id=args.document_id,
        limit=args.top_k,
    )
    rows = [{"score": round(hit.score, 4), "id": hit.id, **hit.payload} for hit in hits]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("no results")
    for row in rows:
        snippet = " ".join(str(row["text"]).split())[:200]
        print(f"{row['score']:.3f}  {row['document_id']}  {_provenance(row)}\n       {snippet}")
    return 0


def cmd_chunks(env: LocalEnvironment, args: argparse.Namespace) -> int:
    record = env.ledger.get_document(args.tenant, validate_id(args.document_id, "document id"))
    if record is None:
        raise InvalidDocument(f"unknown document {args.document_id} for tenant {args.tenant}")
    version = args.version or record.completed_version or record.version
    for segment in env.ledger.list_segments(record.tenant_id, record.document_id, version):
        if segment.status == "done" and segment.output_key:
            for line in env.store.get_bytes(segment.output_key).decode().splitlines():
                chunk = Chunk.model_validate_json(line)
                print(chunk.model_dump_json())
    return 0


def cmd_delete(env: LocalEnvironment, args: argparse.Namespace) -> int:
    tenant = validate_id(args.tenant, "tenant")
    if args.case:
        documents = case_documents(env, tenant, validate_id(args.case, "case"))
    elif args.document_id:
        documents = [validate_id(args.document_id, "document id")]
    else:
        raise InvalidDocument("name a DOCUMENT_ID or --case CASE_ID")
    results = [delete_local_document(env, tenant, document) for document in documents]
    if args.json:
        _print_json([result.model_dump() for result in results])
    else:
        for result in results:
            print(
                f"deleted {result.document_id}: {result.work_objects_deleted} outputs, "
                f"{result.ledger_rows_deleted} ledger rows"
            )
        if not results:
            print("nothing to delete")
    return 0


def _invoke(env: LocalEnvironment, function: str, event: Any) -> BaseModel:
    """Run a function's use case on the laptop's adapters with the event its handler takes."""
    if function == "plan":
        request = parse_event(PlanRequest, event)
        s3_object = request.event.detail.object
        return plan_document(
            s3_object.key,
            s3_object.version_id,
            env.store,
            env.ledger,
            env.plan_options(),
            request.execution_arn,
        )
    if function == "process_segment":
        return process_segment(parse_event(SegmentTask, event), env.segment_deps(env.vectors))
    if function == "finalize":
        return finalize_document(
            parse_event(PlanResult, event), env.store, env.ledger, env.vectors, env.pricing
        )
    if function == "delete":
        deleted = parse_event(S3ObjectEvent, event)
        return delete_uploaded_object(
            deleted.detail.object.key,
            env.store,
            env.ledger,
            env.vectors,
            env.notifier,
            env.reindexed_deleters(),
        )
    if function == "notify_failure":
        return notify_failure(
            parse_event(ExecutionStatusChangeEvent, event), env.ledger, env.notifier
        )
    raise InvalidEvent(f"unknown function {function}")


FUNCTIONS = ("plan", "process_segment", "finalize", "notify_failure", "delete")


def cmd_invoke(env: LocalEnvironment, args: argparse.Namespace) -> int:
    try:
        event = json.loads(Path(args.event).read_text())
    except (OSError, ValueError) as exc:
        raise InvalidEvent(f"cannot read event file {args.event}: {type(exc).__name__}") from None
    _print_json(_invoke(env, args.function, event).model_dump(mode="json"))
    return 0


def _add_backfill_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    sub = commands.add_parser(
        "backfill",
        help="ingest what a bucket already holds (starts the cloud's Backfill state machine)",
        description="Start the Backfill state machine of a deployed stack: every object under "
        "PREFIX is handed to Start as its upload event would have been (same execution name: "
        "documents already ingested or in flight are skipped). Uses the AWS credentials and "
        "region of the environment.",
    )
    sub.add_argument("--prefix", default="uploads/", help="uploads/ or a folder under it")
    _add_state_machine_options(
        sub, "default: BACKFILL_STATE_MACHINE_ARN", "objects", tolerated_percentage=5.0
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_backfill)


def _add_state_machine_options(
    sub: argparse.ArgumentParser, arn_help: str, items: str, tolerated_percentage: float
) -> None:
    """A run of one of the stack's Distributed Map state machines, over ``items``."""
    sub.add_argument("--state-machine-arn", help=arn_help)
    sub.add_argument("--max-concurrency", type=_positive, default=20, help=f"{items} at once (20)")
    sub.add_argument(
        "--tolerated-failure-percentage",
        type=_percentage,
        default=tolerated_percentage,
        help=f"the run fails beyond this share of failed {items} ({tolerated_percentage:g})",
    )


def _query(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("the query is empty")
    return value


def _positive(value: str) -> int:
    if not value.strip().isdecimal() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)


def _percentage(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not 0 <= number <= 100:  # NaN included
        raise argparse.ArgumentTypeError(f"{value!r} is not a percentage from 0 to 100")
    return number


def _collection_prefix(value: str) -> str:
    if not re.fullmatch(COLLECTION_PREFIX_PATTERN, value):
        raise argparse.ArgumentTypeError("letters, digits, _ and -, at most 100")
    return value


def _add_reindex_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser(
        "reindex",
        help="embed every completed document again with another model (no re-extraction)",
        description="Read the chunk files of every completed document, embed them with MODEL "
        "and write them to that model's collection; the collection in use is untouched. Set "
        "EMBEDDING_MODEL (and EMBEDDING_DIMENSIONS) to switch search to it. Re-run to resume.",
    )
    sub.add_argument("--model", help="the new EMBEDDING_MODEL")
    sub.add_argument("--dimensions", type=int, help="its EMBEDDING_DIMENSIONS (default: native)")
    sub.add_argument(
        "--collection-prefix",
        type=_collection_prefix,
        help="write a collection with this QDRANT_COLLECTION_PREFIX (default: the configured "
        "one): the same model into a new collection, e.g. one made before hybrid search",
    )
    sub.add_argument(
        "--bm25-only",
        action="store_true",
        help="BM25 vectors only, into the existing collection (by default the one in use), in "
        "place: a collection made before hybrid search gets its sparse vector, its dense "
        "vectors stay",
    )
    sub.add_argument("--dry-run", action="store_true", help="say what it would cost, do nothing")
    _add_state_machine_options(
        sub,
        "run it in the cloud: the stack's ReindexStateMachineArn (default: "
        "REINDEX_STATE_MACHINE_ARN; neither: here, on the local store)",
        "segments in the cloud",
        tolerated_percentage=0.0,
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_reindex)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="docproc",
        description="Ingest large documents into a searchable vector store, resumably. "
        "State lives under DOCPROC_HOME (default .docproc/).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_tenant(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--tenant", default="local", help="tenant id (default: local)")

    sub = commands.add_parser(
        "ingest", help="ingest files and folders (re-run to resume)", description=INGEST_HELP
    )
    sub.add_argument("paths", nargs="+", metavar="PATH", help="a file or a folder")
    with_tenant(sub)
    sub.add_argument("--case", default="default", help="case id (default: default)")
    sub.add_argument(
        "--document-id", help="document id of a single file (default: from the file name)"
    )
    sub.add_argument(
        "--glob", help="only the files inside folders whose path or name matches, e.g. '*.pdf'"
    )
    sub.add_argument(
        "--json", action="store_true", help="print JSON (one line per document for folders)"
    )
    sub.set_defaults(run=cmd_ingest)

    sub = commands.add_parser("status", help="where a document is")
    sub.add_argument("document_id")
    with_tenant(sub)
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_status)

    _add_reindex_command(commands)
    _add_backfill_command(commands)

    sub = commands.add_parser("stats", help="documents by status, resumable, retried")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_stats)

    sub = commands.add_parser("cleanup", help="remove expired ledger rows and old work outputs")
    sub.add_argument("--older-than", default="7d", help="age of finished documents (7d, 12h)")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_cleanup)

    sub = commands.add_parser("search", help="search ingested chunks")
    sub.add_argument("query", type=_query)
    with_tenant(sub)
    sub.add_argument("--case")
    sub.add_argument("--document-id")
    sub.add_argument("--top-k", type=_positive, default=5)
    sub.add_argument(
        "--mode",
        choices=["hybrid", "dense", "bm25"],
        default="hybrid",
        help="meaning (dense), keywords (bm25), or both fused by rank (hybrid, the default)",
    )
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_search)

    sub = commands.add_parser("chunks", help="print a document's chunk JSONL")
    sub.add_argument("document_id")
    with_tenant(sub)
    sub.add_argument("--version", help="a version other than the searchable one")
    sub.set_defaults(run=cmd_chunks)

    sub = commands.add_parser("delete", help="delete a document, or every document of a case")
    sub.add_argument("document_id", nargs="?")
    with_tenant(sub)
    sub.add_argument("--case", help="delete every document of this case")
    sub.add_argument("--json", action="store_true")
    sub.set_defaults(run=cmd_delete)

    sub = commands.add_parser(
        "invoke", help="run one function's use case on local adapters with an event file"
    )
    sub.add_argument("function", choices=FUNCTIONS)
    sub.add_argument("--event", required=True)
    sub.set_defaults(run=cmd_invoke)
    return parser


def configure_logging() -> None:
    """Logs as the command writes them: on stderr, at DOCPROC_LOG_LEVEL (WARNING unless set)."""
    log_to_stderr(os.environ.get("DOCPROC_LOG_LEVEL", "WARNING"))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    env: LocalEnvironment | None = None
    try:
        env = LocalEnvironment(load_settings(LocalSettings))
        code: int = args.run(env, args)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader left early (`docproc chunks X | head`): stop quietly, as a Unix tool
        # does. stdout goes to /dev/null first: Python flushes it at exit and would fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except InvalidDocument as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except SegmentFailures as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        # Every failed segment was refused for its content: the document itself is bad.
        if all(isinstance(error, InvalidDocument) for error in exc.failures.values()):
            return EXIT_REJECTED
        return EXIT_FAILED
    except DocprocError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if env is not None:
            env.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
