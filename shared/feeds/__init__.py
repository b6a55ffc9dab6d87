"""Live feeds: stream names, contiguous sequence numbers, book conflation, and the publisher."""

from shared.feeds.conflater import BookConflater
from shared.feeds.publisher import FeedPublisher
from shared.feeds.sequencer import FeedSequencer
from shared.feeds.streams import account_stream, book_group, trades_group

__all__ = [
    "BookConflater",
    "FeedPublisher",
    "FeedSequencer",
    "account_stream",
    "book_group",
    "trades_group",
]
