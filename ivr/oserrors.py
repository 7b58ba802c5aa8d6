"""Russian wording for operating-system errors, so file problems never surface in English
(flow files, audio, models, transcripts and reports all go through it)."""

from __future__ import annotations

import errno

_MESSAGES = {
    errno.ENOENT: "файл или папка не существует",
    errno.EACCES: "нет прав доступа",
    errno.EPERM: "операция не разрешена",
    errno.ENOSPC: "нет места на диске",
    errno.EISDIR: "это папка, а не файл",
    errno.ENOTDIR: "часть пути не является папкой",
    errno.EROFS: "файловая система только для чтения",
    errno.EEXIST: "файл уже существует",
    errno.ENAMETOOLONG: "слишком длинное имя файла",
}


def describe(exc: OSError) -> str:
    return _MESSAGES.get(exc.errno or -1, f"ошибка ввода-вывода (код {exc.errno})")
