"""The document printer's exception tree, in one place so every layer raises the same types.

```
DocumentPrinterError
├── DocumentPrinterConfigError   bad cups:// URL, option or copies; retrying will not help
├── PrinterUnavailableError      CUPS cannot be reached, or the queue is disabled or rejecting
│   └── QueueNotFoundError       CUPS answers but has no such queue (may appear later)
├── PrinterNotReadyError(status) the printer needs a person first: paper out, jam, cover open
├── NotAPdfError                 the document is not a printable PDF; nothing was sent
└── JobFailedError(reason)       the job was aborted or canceled instead of completing
    └── JobTimeoutError          the job did not finish in time (and was canceled)
```

Like the receipt printer's errors, each carries a Chinese `zh` for screens and the technician's
CLI and an English message. Messages never contain the document or its title.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drivers.docprinter.jobs import JobOutcome
    from drivers.state import DeviceStatus


class DocumentPrinterError(Exception):
    """Base of every document printer failure; `zh` is the Chinese wording."""

    zh = "文档打印机故障"

    def bilingual(self) -> str:
        """One line, Chinese then English, for the maintenance CLI."""
        return f"{self.zh} / {self}"


class DocumentPrinterConfigError(DocumentPrinterError, ValueError):
    """The printer URL, an option or an argument cannot be used; retrying will not help."""

    zh = "文档打印机配置错误"


class PrinterUnavailableError(DocumentPrinterError):
    """The print service or queue is not there now: back off and try again."""

    zh = "文档打印机不可用"


class QueueNotFoundError(PrinterUnavailableError):
    """CUPS answers but has no queue of that name (not installed yet, or deleted)."""

    zh = "找不到打印队列"


class PrinterNotReadyError(DocumentPrinterError):
    """The printer reports a condition a person must fix before it prints (paper, jam, cover)."""

    zh = "文档打印机需要处理"

    def __init__(self, message: str, *, status: DeviceStatus) -> None:
        super().__init__(message)
        self.status = status


class NotAPdfError(DocumentPrinterError, ValueError):
    """The document is not a complete, unencrypted PDF within the size limit; nothing was sent."""

    zh = "文件不是有效的PDF"


class JobFailedError(DocumentPrinterError):
    """The job ended without printing; `reason` says why in words a technician understands."""

    zh = "打印任务失败"

    def __init__(self, message: str, *, reason: str, outcome: JobOutcome | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.outcome = outcome


class JobTimeoutError(JobFailedError, TimeoutError):
    """The job was not finished by the deadline; `canceled` tells whether it was canceled."""

    zh = "打印任务超时"

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        outcome: JobOutcome | None = None,
        canceled: bool = False,
    ) -> None:
        super().__init__(message, reason=reason, outcome=outcome)
        self.canceled = canceled
