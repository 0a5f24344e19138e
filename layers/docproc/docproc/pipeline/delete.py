"""Delete: a document's points, its work/ outputs and its ledger rows, then "Document Deleted".

Idempotent and ordered so that a failure part-way can simply be retried (a retry finds the
document by its upload's key, not by the ledger): the points of the collection in use, the
ledger rows, the points of every other collection a re-index made or read from (the ledger
records them for good, before the re-index writes a point), then work/. Those collections
are read after the ledger rows go: a re-index segment checks the ledger after writing its
points (pipeline.reindex), so one that writes after this read finds the document gone and
removes its own points. The re-index markers under work/ name collections too: a re-index
run before the ledger recorded them is found by its markers (until work/ expires).
"""

from __future__ import annotations

from docproc.ledger.port import Ledger
from docproc.models import DOCUMENT_DELETED, WORK_PREFIX, DeleteResult, DocumentKey, ReindexSegment
from docproc.notify.port import Notifier
from docproc.observability import logger, metrics
from docproc.storage.port import ObjectStore
from docproc.vectors.port import CollectionDeleters, VectorDeleter


def delete_document(
    tenant_id: str,
    document_id: str,
    store: ObjectStore,
    ledger: Ledger,
    vectors: VectorDeleter,
    notifier: Notifier,
    reindexed: CollectionDeleters,
    case_id: str | None = None,
) -> DeleteResult:
    record = ledger.get_document(tenant_id, document_id)
    vectors.delete_document(tenant_id, document_id)
    rows = ledger.delete_document(tenant_id, document_id)
    work = f"{WORK_PREFIX}{tenant_id}/{document_id}/"
    for collection in sorted(set(ledger.collections()) | _reindexed_into(store, work)):
        other = reindexed(collection)
        if other is not None:
            other.delete_document(tenant_id, document_id)
    objects = store.delete_prefix(work)
    result = DeleteResult(
        tenant_id=tenant_id,
        case_id=record.case_id if record else case_id,
        document_id=document_id,
        work_objects_deleted=objects,
        ledger_rows_deleted=rows,
    )
    notifier.publish(DOCUMENT_DELETED, result.model_dump(mode="json"))
    metrics.add_metric(name="DocumentsDeleted", unit="Count", value=1)
    logger.info("document deleted", extra={"objects": objects, "ledger_rows": rows})
    return result


def _reindexed_into(store: ObjectStore, work: str) -> set[str]:
    names = (ReindexSegment.marker_collection(key) for key in store.list_keys(work))
    return {name for name in names if name is not None}


def delete_uploaded_object(
    key: str,
    store: ObjectStore,
    ledger: Ledger,
    vectors: VectorDeleter,
    notifier: Notifier,
    reindexed: CollectionDeleters,
) -> DeleteResult:
    """S3 said the upload at ``key`` was deleted: delete its document, unless the key still
    has a current object (only an old version went, or it was uploaded again since)."""
    ids = DocumentKey.from_object_key(key)
    if store.exists(key):
        logger.info("the upload still exists; nothing to delete")
        return DeleteResult(
            tenant_id=ids.tenant_id, case_id=ids.case_id, document_id=ids.document_id, skipped=True
        )
    return delete_document(
        ids.tenant_id,
        ids.document_id,
        store,
        ledger,
        vectors,
        notifier,
        reindexed,
        case_id=ids.case_id,
    )
