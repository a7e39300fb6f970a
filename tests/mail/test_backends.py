"""Console, file and in-memory backends."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from satchel.mail import (
    ConsoleBackend,
    EmailMessage,
    FileBackend,
    MailBackend,
    MemoryBackend,
    SMTPBackend,
)

SENDER = "shop@example.com"


def message(subject: str = "Your order") -> EmailMessage:
    return EmailMessage(subject, "It ships today.", "jane@example.com", from_email=SENDER)


def test_every_backend_is_a_mail_backend(tmp_path: Path) -> None:
    backends = [ConsoleBackend(), FileBackend(tmp_path), MemoryBackend(), SMTPBackend()]
    assert all(isinstance(backend, MailBackend) for backend in backends)


def test_console_writes_to_a_stream() -> None:
    stream = io.StringIO()
    sent = asyncio.run(ConsoleBackend(stream).send([message("First"), message("Second")]))
    assert sent == 2
    text = stream.getvalue()
    assert "Subject: First\n" in text
    assert "Subject: Second\n" in text
    assert "\r" not in text
    assert text.count("-" * 79) == 2


def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(ConsoleBackend().send([message()]))
    assert "Subject: Your order" in capsys.readouterr().out


def test_console_writes_nothing_when_a_message_cannot_be_built() -> None:
    stream = io.StringIO()
    unsent = EmailMessage("No sender", "Body", "jane@example.com")
    with pytest.raises(ValueError, match="no sender"):
        asyncio.run(ConsoleBackend(stream).send([message(), unsent]))
    assert stream.getvalue() == ""


def test_console_messages_do_not_interleave() -> None:
    stream = io.StringIO()
    backend = ConsoleBackend(stream)

    async def main() -> None:
        await asyncio.gather(*(backend.send([message(f"Message {n}")]) for n in range(20)))

    asyncio.run(main())
    blocks = stream.getvalue().split("-" * 79 + "\n")
    assert len(blocks) == 21  # 20 messages and what follows the last separator
    assert all(block.count("Subject:") == 1 for block in blocks[:-1])


def test_file_backend_writes_one_eml_per_message(tmp_path: Path) -> None:
    directory = tmp_path / "not" / "yet" / "there"
    backend = FileBackend(directory)
    asyncio.run(backend.send([message(f"Message {n}") for n in range(10)]))
    asyncio.run(backend.send([message("Last")]))
    files = sorted(directory.glob("*.eml"))
    assert len(files) == 11
    subjects = {message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files}
    assert subjects == {*(f"Message {n}" for n in range(10)), "Last"}


def test_file_backend_accepts_a_str_path(tmp_path: Path) -> None:
    asyncio.run(FileBackend(str(tmp_path)).send([message()]))
    assert len(list(tmp_path.iterdir())) == 1


def test_memory_backend_keeps_the_messages() -> None:
    backend = MemoryBackend()
    first, second = message("First"), message("Second")
    assert asyncio.run(backend.send([first, second])) == 2
    assert backend.outbox == [first, second]
    backend.outbox.clear()
    assert backend.outbox == []


def test_memory_backend_refuses_what_could_not_be_sent() -> None:
    backend = MemoryBackend()
    with pytest.raises(ValueError, match="no sender"):
        asyncio.run(backend.send([EmailMessage("No sender", "Body", "jane@example.com")]))
    assert backend.outbox == []


def test_stdlib_only_and_not_imported_by_satchel() -> None:
    code = (
        "import sys, satchel; loaded = 'satchel.mail' in sys.modules; import satchel.mail; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'jinja2', 'argon2', 'bcrypt', 'zxcvbn', 'jwt', 'aiosmtpd', 'satchel.auth'})"
        "; print(loaded, heavy)"
    )
    output = subprocess.check_output([sys.executable, "-c", code], text=True)
    assert output.strip() == "False []"
