"""The kiosk's delivery path as a process of its own, to be killed (-9) and started again.

It runs the real parts: the store (`open_store` on a SQLite file, `synchronous=FULL`), the outbox
with its key file, the real `CentralClient` pointed at the fault proxy, and the `OutboxWorker`
(short interval, small back-off). It reads one command a line and answers one line:

    READY                                   once started (store open, worker running)
    submit <kind> <key>  -> RECEIVED <key>  only after the message is durable: the resident is told
                         -> DUPLICATE <key> that key was queued before
                         -> REFUSED <key> <reason>  not saved (disk full, locked): told NOT received
    status               -> STATUS <backlog> <parked>
    quit                 -> BYE

`python -m tests.faults.kiosk_child DB KEYFILE CENTRAL_URL` speaks it on stdin/stdout; the harness
also starts `run_forked` from a preloaded fork server (the same loop over pipes), because a fresh
interpreter costs a second of imports and the suite kills hundreds of kiosks.
"""

from __future__ import annotations

import argparse
import functools
import io
import logging
import random
import ssl
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from PIL import Image

from kiosk.central import CentralClient, RetryPolicy
from kiosk.delivery import central_sender
from kiosk.flows.apply import Application, Attachment, Person, queue_application
from kiosk.flows.rating import Rating, queue_rating
from kiosk.outbox import Outbox, OutboxWorker, load_or_create_key
from kiosk.store import StoreWriteError, open_store
from tests.support.kiosk_keys import TEST_KIOSKS

KIOSK_ID = "KIOSK-F-1"
KINDS = ("rating", "application")
# The client's own retries stay in play, but short: the outbox's back-off is what is under test.
FAST_RETRY = RetryPolicy(attempts=2, initial=0.01, maximum=0.02, total=0.3)
# A seeded test person of central/seed/persons.json, and a submit item without a face check that
# takes one document (失业登记: the termination certificate).
APPLICANT = Person(name="李秀英", id_number="110101195603121240")
APPLICATION_ITEM = "shebao.unemployment-registration"
DOCUMENT_CODE = "termination_proof"


@dataclass(frozen=True)
class Tuning:
    """How fast the kiosk under test gives up and tries again."""

    client_timeout_s: float = 0.3
    worker_interval_s: float = 0.02
    max_backoff_s: float = 0.05
    document_bytes: int = 8_000


def noise_jpeg(approx_bytes: int, seed: int = 0) -> bytes:
    """A JPEG of random noise of about `approx_bytes` (noise barely compresses, like a scan's grain)."""
    side = max(16, int((approx_bytes / 0.62) ** 0.5))  # quality 75 noise: ~0.62 bytes a pixel
    rng = random.Random(seed)
    pixels = rng.randbytes(side * side * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(out, "JPEG", quality=75)
    return out.getvalue()


def application(key: str, jpeg: bytes) -> Application:
    """A realistic application: a seeded applicant, the form's fields and one scanned page.

    The key is also written into a field (the former employer), so the central service's copy can
    be counted by content: a duplicate under another key would show.
    """
    ended = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    fields = {
        "phone": "13800138000",
        "reason": "contract_expired",
        "last_employer": employer_marker(key),
        "ended_on": ended,
    }
    return Application(
        idempotency_key=key,
        item_code=APPLICATION_ITEM,
        kiosk_id=KIOSK_ID,
        applicant=APPLICANT,
        fields=fields,
        documents=(Attachment(DOCUMENT_CODE, jpeg),),
    )


def employer_marker(key: str) -> str:
    return f"北京市东城区示例科技有限公司 {key}"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx loads the CA bundle for every client (50 ms); a trial makes two clients, so share it.
    return ssl.create_default_context()


class Kiosk:
    """The real store, outbox, client and worker, on files that outlive the process."""

    def __init__(
        self, db: Path, key_file: Path, central_url: str, tuning: Tuning | None = None
    ) -> None:
        self.tuning = tuning or Tuning()
        self.store = open_store(f"sqlite:///{db}", lambda: datetime.now(UTC))
        self.outbox = Outbox(
            self.store, load_or_create_key(key_file), max_backoff_s=self.tuning.max_backoff_s
        )
        self.client = CentralClient(
            central_url,
            timeout=self.tuning.client_timeout_s,
            kiosk_id=KIOSK_ID,
            transport=httpx.HTTPTransport(verify=_tls_context()),
            retry=FAST_RETRY,
            auth=TEST_KIOSKS,
        )
        send = central_sender(self.client)
        self.worker = OutboxWorker(
            self.outbox, {kind: send for kind in KINDS}, interval_s=self.tuning.worker_interval_s
        )
        self._jpeg = noise_jpeg(self.tuning.document_bytes)

    def start(self) -> Kiosk:
        self.worker.start()
        return self

    def submit(self, kind: str, key: str) -> str:
        """Queue one message; the answer line the resident's screen would follow."""
        try:
            if kind == "rating":
                # The session id is also the 办件编号, so the service's copy is found by content.
                session_id = key.removeprefix("rating-")
                now = datetime.now(UTC)
                rating = Rating(
                    session_id, KIOSK_ID, "shebao.insured-cert", 5, now, case_no=session_id
                )
                queue_rating(self.outbox, rating)
                new = True
            elif kind == "application":
                new = queue_application(self.outbox, application(key, self._jpeg))
            else:
                return f"REFUSED {key} unknown-kind"
        except StoreWriteError as exc:
            return f"REFUSED {key} " + "-".join(str(exc).split())
        return f"RECEIVED {key}" if new else f"DUPLICATE {key}"

    def status(self) -> str:
        return f"STATUS {self.outbox.backlog()} {self.outbox.parked()}"

    def close(self) -> None:
        self.worker.stop()
        self.client.close()
        self.store.close()


def serve(kiosk: Kiosk, commands: Iterable[str], say: Callable[[str], None]) -> None:
    """Answer commands until `quit` or the end of input."""
    say("READY")
    for line in commands:
        words = line.split()
        if words[:1] == ["submit"] and len(words) == 3:
            say(kiosk.submit(words[1], words[2]))
        elif words == ["status"]:
            say(kiosk.status())
        elif words == ["quit"]:
            break
        else:
            say(f"ERROR unknown command {line.strip()!r}")
    kiosk.close()
    say("BYE")


def _received(connection: Connection) -> Iterator[str]:
    while True:
        try:
            yield connection.recv_bytes().decode()
        except EOFError:
            return


def run_forked(
    db: str,
    key_file: str,
    central_url: str,
    tuning: Tuning,
    commands: Connection,
    replies: Connection,
) -> None:
    """The fork server's entry: the same loop, lines over pipes (each reply one atomic write)."""
    logging.basicConfig(level=logging.ERROR)
    kiosk = Kiosk(Path(db), Path(key_file), central_url, tuning).start()
    serve(kiosk, _received(commands), lambda line: replies.send_bytes(line.encode()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The kiosk's delivery path, for fault trials.")
    parser.add_argument("db", type=Path)
    parser.add_argument("key_file", type=Path)
    parser.add_argument("central_url")
    parser.add_argument("--document-bytes", type=int, default=Tuning.document_bytes)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    tuning = Tuning(document_bytes=args.document_bytes)
    kiosk = Kiosk(args.db, args.key_file, args.central_url, tuning).start()
    serve(kiosk, sys.stdin, lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
