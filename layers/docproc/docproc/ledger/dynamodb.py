"""Ledger on one DynamoDB table (pk/sk), with conditional writes and a TTL attribute.

pk = DOC#{tenant}#{document}   sk = DOCUMENT                   the document row
pk = DOC#{tenant}#{document}   sk = SEG#{version}#{index:05d}  one row per segment
pk = COLLECTIONS               sk = COLLECTION#{name}          a collection deletions reach
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import BotoCoreError, ClientError

from docproc.errors import TransientError
from docproc.ledger.records import (
    completed_record,
    expires_at,
    failable,
    failed_segment,
    started_record,
    utc_now,
)
from docproc.models import (
    DocumentRecord,
    DocumentRef,
    DocumentStatus,
    DocumentSummary,
    SegmentRecord,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_DOCUMENT_SK = "DOCUMENT"
_COLLECTIONS_PK = "COLLECTIONS"
_COLLECTION_SK = "COLLECTION#"
_PROGRESS_SK = "PROGRESS"
# Sparse index over document rows only: the documents of a case without a scan.
CASE_INDEX = "by_case"
# Sparse index over document rows by status: stats without a scan.
STATUS_INDEX = "by_status"
_OPTIMISTIC_RETRIES = 5
_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
}


def _pk(tenant_id: str, document_id: str) -> str:
    return f"DOC#{tenant_id}#{document_id}"


def _segment_sk(version: str, index: int) -> str:
    return f"SEG#{version}#{index:05d}"


def _to_item(data: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB rejects floats: round-trip through JSON with Decimals, dropping Nones.
    clean = {key: value for key, value in data.items() if value is not None}
    return json.loads(json.dumps(clean), parse_float=Decimal)  # type: ignore[no-any-return]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class DynamoDBLedger:
    def __init__(self, table: Table, ttl_days: int) -> None:
        self._table = table
        self._ttl_days = ttl_days

    # -- documents --------------------------------------------------------------------------

    def get_document(self, tenant_id: str, document_id: str) -> DocumentRecord | None:
        item = self._call(
            lambda: self._table.get_item(
                Key={"pk": _pk(tenant_id, document_id), "sk": _DOCUMENT_SK}, ConsistentRead=True
            )
        ).get("Item")
        return DocumentRecord.model_validate(item) if item else None

    def _put_document(self, record: DocumentRecord, previous: DocumentRecord | None) -> bool:
        """Optimistic write: succeeds only if the row is still what we read."""
        item = _to_item(record.model_dump(mode="json"))
        item.update(
            pk=_pk(record.tenant_id, record.document_id),
            sk=_DOCUMENT_SK,
            case_key=f"{record.tenant_id}#{record.case_id}",
            status_key=record.status,
        )
        condition = (
            Attr("pk").not_exists()
            if previous is None
            else Attr("updated_at").eq(previous.model_dump(mode="json")["updated_at"])
        )
        try:
            self._table.put_item(Item=item, ConditionExpression=condition)
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise self._translate(exc) from exc
        return True

    def _update_document(self, tenant_id: str, document_id: str, change: Any) -> None:
        for _ in range(_OPTIMISTIC_RETRIES):
            previous = self.get_document(tenant_id, document_id)
            record = change(previous)
            if record is None or self._put_document(record, previous):
                return
        raise TransientError("document row kept changing under us")

    def start_document(
        self, ref: DocumentRef, segments_total: int, execution_arn: str | None = None
    ) -> DocumentRecord:
        written: list[DocumentRecord] = []

        def change(previous: DocumentRecord | None) -> DocumentRecord:
            record = started_record(previous, ref, segments_total, execution_arn, utc_now())
            written[:] = [record]
            return record

        self._update_document(ref.tenant_id, ref.document_id, change)
        return written[0]

    def complete_document(
        self, ref: DocumentRef, summary: DocumentSummary, execution_arn: str | None = None
    ) -> bool:
        won: list[bool] = []

        def change(previous: DocumentRecord | None) -> DocumentRecord | None:
            record = completed_record(previous, ref, summary, utc_now(), execution_arn)
            won[:] = [record is not None]
            return record

        self._update_document(ref.tenant_id, ref.document_id, change)
        return won[0]

    def fail_document(
        self, tenant_id: str, document_id: str, version: str | None, error: str
    ) -> None:
        def change(previous: DocumentRecord | None) -> DocumentRecord | None:
            if previous is None or not failable(previous, version):
                return None
            return previous.model_copy(
                update={"status": "failed", "last_error": error[:1000], "updated_at": utc_now()}
            )

        self._update_document(tenant_id, document_id, change)

    # -- segments ---------------------------------------------------------------------------

    def get_segment(
        self, tenant_id: str, document_id: str, version: str, index: int
    ) -> SegmentRecord | None:
        item = self._call(
            lambda: self._table.get_item(
                Key={"pk": _pk(tenant_id, document_id), "sk": _segment_sk(version, index)},
                ConsistentRead=True,
            )
        ).get("Item")
        return SegmentRecord.model_validate(item) if item else None

    def list_segments(self, tenant_id: str, document_id: str, version: str) -> list[SegmentRecord]:
        condition = Key("pk").eq(_pk(tenant_id, document_id)) & Key("sk").begins_with(
            f"SEG#{version}#"
        )
        items = self._query({"KeyConditionExpression": condition, "ConsistentRead": True})
        return [SegmentRecord.model_validate(item) for item in items]

    def mark_segment_done(
        self, tenant_id: str, document_id: str, version: str, record: SegmentRecord
    ) -> bool:
        item = self._segment_item(tenant_id, document_id, version, record)
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression=Attr("pk").not_exists() | Attr("status").ne("done"),
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise self._translate(exc) from exc
        return True

    def mark_segment_failed(
        self, tenant_id: str, document_id: str, version: str, index: int, error: str
    ) -> None:
        previous = self.get_segment(tenant_id, document_id, version, index)
        record = failed_segment(previous, index, error)
        try:
            self._table.put_item(
                Item=self._segment_item(tenant_id, document_id, version, record),
                ConditionExpression=Attr("pk").not_exists() | Attr("status").ne("done"),
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise self._translate(exc) from exc

    def _segment_item(
        self, tenant_id: str, document_id: str, version: str, record: SegmentRecord
    ) -> dict[str, Any]:
        item = _to_item(record.model_dump(mode="json"))
        item.update(
            pk=_pk(tenant_id, document_id),
            sk=_segment_sk(version, record.index),
            version=version,
            expires_at=expires_at(self._ttl_days),
        )
        return item

    def renew_segments(self, tenant_id: str, document_id: str, version: str, now: datetime) -> int:
        keys = self._query(
            {
                "KeyConditionExpression": Key("pk").eq(_pk(tenant_id, document_id))
                & Key("sk").begins_with(f"SEG#{version}#"),
                "ProjectionExpression": "pk, sk",
            }
        )
        ttl = expires_at(self._ttl_days, now)
        for key in keys:
            self._call(
                lambda key=key: self._table.update_item(
                    Key={"pk": key["pk"], "sk": key["sk"]},
                    UpdateExpression="SET expires_at = :ttl",
                    ExpressionAttributeValues={":ttl": ttl},
                )
            )
        return len(keys)

    def delete_document(self, tenant_id: str, document_id: str) -> int:
        return self._delete_rows(Key("pk").eq(_pk(tenant_id, document_id)))

    def delete_segments(self, tenant_id: str, document_id: str, version: str) -> int:
        return self._delete_rows(
            Key("pk").eq(_pk(tenant_id, document_id)) & Key("sk").begins_with(f"SEG#{version}#")
        )

    def _delete_rows(self, condition: Any) -> int:
        keys = [
            {"pk": item["pk"], "sk": item["sk"]}
            for item in self._query(
                {
                    "KeyConditionExpression": condition,
                    "ProjectionExpression": "pk, sk",
                    "ConsistentRead": True,
                }
            )
        ]
        try:
            with self._table.batch_writer() as batch:
                for key in keys:
                    batch.delete_item(Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc) from exc
        return len(keys)

    def list_documents(self, tenant_id: str, case_id: str) -> list[DocumentRecord]:
        items = self._query(
            {
                "IndexName": CASE_INDEX,
                "KeyConditionExpression": Key("case_key").eq(f"{tenant_id}#{case_id}"),
            }
        )
        return sorted(
            (DocumentRecord.model_validate(item) for item in items),
            key=lambda record: record.document_id,
        )

    def documents_by_status(self, status: DocumentStatus) -> Iterator[DocumentRecord]:
        # Page by page: a status may hold hundreds of thousands of documents.
        for items in self._query_pages(
            {"IndexName": STATUS_INDEX, "KeyConditionExpression": Key("status_key").eq(status)}
        ):
            yield from (DocumentRecord.model_validate(item) for item in items)

    def claim_progress_slot(
        self, tenant_id: str, document_id: str, now: datetime, interval_seconds: float
    ) -> bool:
        stamp = Decimal(str(now.timestamp()))
        try:
            self._table.update_item(
                Key={"pk": _pk(tenant_id, document_id), "sk": _PROGRESS_SK},
                UpdateExpression="SET published_at = :now, expires_at = :ttl",
                ConditionExpression=Attr("published_at").not_exists()
                | Attr("published_at").lte(stamp - Decimal(str(interval_seconds))),
                ExpressionAttributeValues={":now": stamp, ":ttl": expires_at(self._ttl_days)},
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise self._translate(exc) from exc
        return True

    def record_collection(self, collection: str) -> None:
        # No TTL attribute: the row lasts as long as the table.
        self._call(
            lambda: self._table.put_item(
                Item={"pk": _COLLECTIONS_PK, "sk": f"{_COLLECTION_SK}{collection}"}
            )
        )

    def collections(self) -> list[str]:
        items = self._query(
            {
                "KeyConditionExpression": Key("pk").eq(_COLLECTIONS_PK)
                & Key("sk").begins_with(_COLLECTION_SK),
                "ConsistentRead": True,
            }
        )
        return sorted(str(item["sk"]).removeprefix(_COLLECTION_SK) for item in items)

    def delete_expired_segments(self, now: datetime) -> int:
        # DynamoDB's TTL deletes expired rows itself (within days); nothing to do here.
        return 0

    def _query(self, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        return [item for page in self._query_pages(kwargs) for item in page]

    def _query_pages(self, kwargs: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        start: dict[str, Any] | None = None
        while True:
            page_kwargs = dict(kwargs, ExclusiveStartKey=start) if start else kwargs
            page = self._call(lambda kw=page_kwargs: self._table.query(**kw))
            yield page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    def _translate(exc: Exception) -> Exception:
        if isinstance(exc, ClientError) and _code(exc) in _RETRYABLE:
            return TransientError(f"ledger: {_code(exc)}")
        if isinstance(exc, BotoCoreError):
            return TransientError(f"ledger: {type(exc).__name__}")
        return exc

    def _call(self, operation: Any) -> dict[str, Any]:
        try:
            return operation()  # type: ignore[no-any-return]
        except (ClientError, BotoCoreError) as exc:
            raise self._translate(exc) from exc
