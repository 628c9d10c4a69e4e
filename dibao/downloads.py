"""Stored files (uploads and exports): how they are named on disk and the one way out.

Nothing under MEDIA_ROOT is served by URL. A stored file leaves only through a view that
asks the permission table, fetches the owning row inside the user's jurisdiction
(`fetch_for_download`) and hands the file to `file_download`, which writes a
`file.download` audit record with the file's SHA-256 and streams it.

On disk a file is named by a random token (`stored_name`), never by what the uploader called
it nor by a guessable export name; the original name is kept on the row and offered as the
download name only.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from pathlib import PurePath

from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

from dibao.audit import AuditAction, audit_record
from dibao.permissions import require
from dibao.scoping import get_scoped_or_404

_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")
_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f/\\"]')


def stored_name(prefix: str, original_name: str = "") -> str:
    """`prefix/YYYY/MM/<random>.<ext>`: the extension of `original_name` if it is a plain one."""
    suffix = PurePath(original_name).suffix.lower()
    if not _SUFFIX.fullmatch(suffix):
        suffix = ""
    return f"{prefix}/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


@deconstructible
class RandomName:
    """`upload_to` for a FileField: the stored name is random, whatever the upload was called."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, instance, filename: str) -> str:
        return stored_name(self.prefix, filename)

    def __eq__(self, other) -> bool:
        return isinstance(other, RandomName) and other.prefix == self.prefix


def download_name(name: str, fallback: str) -> str:
    """A file name fit for Content-Disposition: the last path part, without control characters,
    quotes or slashes (Django encodes the non-ASCII rest per RFC 5987)."""
    name = unicodedata.normalize("NFC", name or "")
    name = _UNSAFE_IN_NAME.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return name[:150] or fallback


def fetch_for_download(queryset_or_model, user, *, action: str, **lookup):
    """The row owning a file: 403 for a role without `action`, 404 outside the user's jurisdiction."""
    require(user, action)
    return get_scoped_or_404(queryset_or_model, user, **lookup)


def _sha256(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


@transaction.atomic
def file_download(*, actor, file: FieldFile, name: str, object_type: str, object_id, region_code: str,
                  content_type: str | None = None, inline: bool = False, details: dict | None = None) -> FileResponse:
    """Record who took which file (with its SHA-256, so the copy can be proven later) and stream it.

    `file` belongs to a row the caller fetched with `fetch_for_download`; `name` is what the
    user's browser saves it as; `details` go into the audit record too (e.g. whether the file
    holds full ID numbers)."""
    if not file:
        raise Http404(_("该记录没有可下载的文件"))
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404(_("文件“%(name)s”已不在服务器上，请联系系统管理员") % {"name": name}) from None
    try:
        audit_record(actor=actor, action=AuditAction.FILE_DOWNLOAD, object_type=object_type, object_id=object_id,
                     region_code=region_code,
                     after={"file": name, "sha256": _sha256(handle), "size": file.size, **(details or {})})
    except BaseException:
        handle.close()
        raise
    fallback = f"download{PurePath(file.name).suffix}"
    return FileResponse(handle, as_attachment=not inline, filename=download_name(name, fallback),
                        content_type=content_type)
