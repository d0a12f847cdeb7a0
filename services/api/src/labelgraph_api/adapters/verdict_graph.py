"""The verdicts' copy in the graph: Review nodes, the api's only writes."""

from __future__ import annotations

from labelgraph_api import queries
from labelgraph_api.adapters.graph import GraphSession
from labelgraph_api.domain import StoredVerdict, Withdrawal, review_key


class VerdictProjection:
    """Projects verdicts of the verdict table onto Review nodes (newest wins)."""

    def __init__(self, session: GraphSession) -> None:
        self._session = session

    async def ensure_schema(self) -> None:
        """Create the Review key constraint and its object-key and label indexes (idempotent)."""
        for statement in queries.SCHEMA:
            await self._session.write(statement)

    async def image_exists(self, object_key: str) -> bool:
        return bool(await self._session.rows(queries.IMAGE_EXISTS, object_key=object_key))

    async def was_sampled(self, object_key: str, label: str) -> bool:
        """Whether the image's verdict on the label came from the random sample."""
        rows = await self._session.rows(queries.REVIEW_SAMPLED,
                                        review_key=review_key(object_key, label))
        return bool(rows and rows[0]["sampled"])

    async def project(self, verdicts: list[StoredVerdict]) -> None:
        """Write verdicts onto their Review nodes; an older one never replaces a newer."""
        rows = [{**verdict.as_row(), "review_key": review_key(verdict.object_key, verdict.label)}
                for verdict in verdicts]
        await self._session.write(queries.PROJECT_VERDICTS, verdicts=rows)

    async def images_existing(self, object_keys: list[str]) -> set[str]:
        """Those of the object keys that are images of the graph."""
        rows = await self._session.rows(queries.IMAGES_EXISTING, object_keys=object_keys)
        return {row["object_key"] for row in rows}

    async def withdraw(self, withdrawals: list[Withdrawal]) -> None:
        """Replace each undone verdict by the previous one in force, or drop its Review when
        none is left; only while the graph still shows the undone one."""
        restored = [{**previous.as_row(), **_shown(undone)}
                    for undone, previous in withdrawals if previous is not None]
        dropped = [_shown(undone) for undone, previous in withdrawals if previous is None]
        if restored:
            await self._session.write(queries.RESTORE_PREVIOUS_VERDICTS, withdrawn=restored)
        if dropped:
            await self._session.write(queries.DROP_WITHDRAWN_VERDICTS, withdrawn=dropped)

    async def graph_verdicts(self, after: StoredVerdict | None, limit: int
                             ) -> list[StoredVerdict]:
        """The verdicts the graph holds (graphs from before the table hold some only here),
        `limit` of them after `after` in key order."""
        rows = await self._session.rows(
            queries.GRAPH_VERDICTS, limit=limit,
            after="" if after is None else review_key(after.object_key, after.label))
        return [StoredVerdict(**row) for row in rows]

    async def reviews_of(self, judged: list[tuple[str, str]]) -> list[StoredVerdict]:
        """The verdicts the graph shows on these (object_key, label) pairs, where it has one."""
        rows = await self._session.rows(queries.REVIEWS_OF,
                                        review_keys=[review_key(*pair) for pair in judged])
        return [StoredVerdict(**row) for row in rows]


def _shown(undone: StoredVerdict) -> dict[str, str]:
    """Which Review to change, and the undone verdict it must still show to be changed."""
    return {"review_key": review_key(undone.object_key, undone.label),
            "withdrawn_at": undone.reviewed_at}
