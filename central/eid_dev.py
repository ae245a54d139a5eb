"""Development only: the reference service playing the e-ID issuer for its test persons.

A real service hall never mints e-IDs (the government app's platform does); this exists so tests,
the kiosk simulator and demos can show a resident's phone. Used by `kiosk central mint-eid` and by
`POST /api/v1/dev/eid/mint`, which `create_app(dev_endpoints=False)` leaves out.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from central import db, eid
from central.idnumber import CardType, keyed_hash, registry_key
from central.records import PersonSeed
from central.seed import PERSONS_FILE, SeedError, read_persons


class UnknownTestPerson(LookupError):
    """No test person matches what was asked for."""


def find_test_person(spec: int | str, persons_path: Path = PERSONS_FILE) -> PersonSeed:
    """A test person by 1-based position in persons.json, registry number or ID number."""
    persons = read_persons(persons_path).persons
    if isinstance(spec, str) and spec.isdigit() and len(spec) <= 3:
        spec = int(spec)
    if isinstance(spec, int):
        if 1 <= spec <= len(persons):
            return persons[spec - 1]
        raise UnknownTestPerson(f"there are {len(persons)} test persons; {spec} is not one")
    wanted = spec.strip().upper()
    for person in persons:
        if wanted in (person.person_no, person.id_number):
            return person
    raise UnknownTestPerson("no test person with that registry or ID number")


def mint_for_test_person(
    session: Session,
    id_hash_key: bytes,
    spec: int | str,
    now: datetime,
    ttl: timedelta = eid.DEFAULT_TTL,
) -> tuple[str, datetime, CardType]:
    """An e-ID token for a test person: the token, its expiry and the card it stands for."""
    person = find_test_person(spec)
    id_hash = keyed_hash(id_hash_key, registry_key(person.card_type, person.id_number))
    token, expires_at = eid.mint_token(
        eid.signing_key(session), id_hash, person.card_type, now, ttl
    )
    return token, expires_at, person.card_type


def write_qr_png(token: str, path: Path) -> None:
    """The token as a QR code PNG, the way the government app shows it."""
    import qrcode  # only the CLI draws codes

    image = qrcode.make(token, error_correction=qrcode.constants.ERROR_CORRECT_M)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        image.save(out)


def mint_cli(person: str, db_url: str, ttl_seconds: int = 120, png: str | None = None) -> int:
    """`kiosk central mint-eid PERSON`: print a token (and write its QR code); exit status."""
    engine = db.make_engine(db_url)
    try:
        db.create_schema(engine)
        with db.make_sessionmaker(engine)() as session:
            token, expires_at, _card = mint_for_test_person(
                session,
                db.id_hash_key(session),
                person,
                datetime.now(UTC),
                timedelta(seconds=ttl_seconds),
            )
    except (UnknownTestPerson, SeedError, ValueError) as exc:
        print(f"mint-eid: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(token)
    if png:
        write_qr_png(token, Path(png))
        print(f"QR code written to {png} (valid until {expires_at:%H:%M:%S} UTC)", file=sys.stderr)
    return 0
