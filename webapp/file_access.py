"""Who may read a file of the output, temp or input folder by name (``/view``, LoadImage).

The owners of the jobs whose outputs named it, or whoever uploaded it; admins read
everything. A file in the input folder that nobody uploaded was put there by the operator and
is shared. The live process knows recent owners in memory; the database knows all of them.
"""

from __future__ import annotations

from typing import Any

from drivers.store.file_owners import file_owners, owned_paths, record_files
from drivers.store.job_outputs import file_key
from webapp.auth import Identity


async def may_read(services: Any, identity: Identity, kind: str, subfolder: str, name: str) -> bool:
    if identity.is_admin:
        return True
    key = (kind, file_key(subfolder, name))
    user = str(identity.user_id)
    known: set[str] = services.file_owners.get(key, set())
    if user in known:
        return True
    async with services.database.transaction() as session:
        stored = {str(u) for u in await file_owners(session, *key)}
    if stored:
        services.file_owners.setdefault(key, set()).update(stored)
    if not stored and not known:
        return kind == "input"
    return user in stored


async def grant(services: Any, identity: Identity, kind: str, subfolder: str, name: str) -> None:
    """Let the caller (and only them, besides admins) read a file they just uploaded."""
    key = (kind, file_key(subfolder, name))
    services.file_owners.setdefault(key, set()).add(str(identity.user_id))
    async with services.database.transaction() as session:
        await record_files(session, identity.user_id, [key])


_INPUT_LISTS = ("input_images", "input_videos")


async def visible_choices(services: Any, identity: Identity) -> dict[str, list[str]]:
    """The combo lists (models, input files) as ``identity`` may see them: other users'
    uploads are left out, so their names do not leak through the node catalog."""
    choices: dict[str, list[str]] = services.dynamic_choices()
    if identity.is_admin:
        return choices
    async with services.database.transaction() as session:
        owners = await owned_paths(session, "input")
    user = identity.user_id
    for key in _INPUT_LISTS:
        names = choices.get(key, [])
        choices[key] = [n for n in names if user in owners.get(file_key("", n), {user})]
    return choices
